"""Adapters of the multilingual tasks XCOPA (+ COPA), tweet_sentiment, SIB-200 and MasakhaNER:
real-schema fixtures and round trips."""

from __future__ import annotations

import pytest
from fixtures_real import HUB_SRC, hub_requests, named_row, write_xtreme_download

from xstilts.data import load
from xstilts.data.layout import write_canonical
from xstilts.data.load import load_split
from xstilts.data.schema import DataError, features_for
from xstilts.tasks.registry import RegistryError, get_task, registry

NEW_TASKS = ("xcopa", "copa", "tweet_sentiment", "sib200", "masakhaner")
pytestmark = pytest.mark.usefixtures("fresh_load_cache")


def _named(ds) -> list[dict]:
    """Every row, ClassLabel ids turned back into names."""
    return [named_row(ds, row) for row in range(len(ds))]


# ---------------------------------------------------------------- registry entries


def test_registry_entries():
    xcopa = get_task("xcopa")
    assert (xcopa.format, xcopa.role, xcopa.num_choices, xcopa.train_task) == (
        "multiple_choice", "target", 2, "copa")
    assert xcopa.languages == ("et", "ht", "id", "it", "qu", "sw", "ta", "th", "tr", "vi", "zh")
    tweet = get_task("tweet_sentiment")
    assert (tweet.format, tweet.role) == ("classification", "target")
    assert tweet.labels == ("negative", "neutral", "positive")
    assert tweet.languages == ("ar", "de", "en", "es", "fr", "hi", "it", "pt")
    sib = get_task("sib200")
    assert (sib.format, sib.role, sib.multilingual) == ("classification", "intermediate", True)
    assert sib.labels == ("science/technology", "travel", "politics", "sports", "health",
                          "entertainment", "geography")
    assert sib.training_languages[0] == "en"
    assert {"ha", "yo", "qu", "jv"} <= set(sib.train_languages)
    names = sib.sources["hub"]["lang_names"]
    assert set(sib.languages) == set(names) and all(names[x] for x in sib.train_languages)
    ner = get_task("masakhaner")
    assert (ner.format, ner.role, ner.multilingual) == ("tagging", "intermediate", True)
    assert ner.labels == ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-DATE",
                          "I-DATE")
    assert len(ner.train_languages) == 20 and "en" not in ner.training_languages
    assert sorted(ner.sources["hub"]["lang_names"].values()) == [
        "bam", "bbj", "ewe", "fon", "hau", "ibo", "kin", "lug", "luo", "mos", "nya", "pcm", "sna",
        "swa", "tsn", "twi", "wol", "xho", "yor", "zul"]
    single = sorted(n for n, t in registry().items() if t.single_sentence)
    assert single == ["sib200", "tweet_sentiment"]
    # English-only tasks keep their default
    assert get_task("mnli").training_languages == ("en",) and not get_task("mnli").multilingual


def test_train_languages_validated_and_overridable():
    with pytest.raises(RegistryError, match="train_languages"):
        registry({"sib200": {"train_languages": ["en", "Hau_Latn"]}})
    assert get_task("sib200", {"sib200": {"train_languages": ["en", "yo"]}}).train_languages == (
        "en", "yo")


# ---------------------------------------------------------------- hub schema


HUB_CASES = [
    # task, split, lang, expected canonical rows (labels as names)
    ("xcopa", "test", "qu", [
        {"id": "1", "context": "Runakunaqa wasinkuman kutirqanku.", "question": "effect",
         "choices": ["The toilet filled with water.", "Water flowed from the spout."],
         "label": 1},
        {"id": "2", "context": "Warmiqa puñurqan.", "question": "cause",
         "choices": ["The toilet filled with water.", "Water flowed from the spout."],
         "label": 0}]),
    ("xcopa", "validation", "qu", [
        {"id": "7", "context": "P.", "question": "cause",
         "choices": ["The toilet filled with water.", "Water flowed from the spout."],
         "label": 0}]),
    # English train and dev of XCOPA are COPA's (its train_task)
    ("xcopa", "train", "en", [
        {"id": "0", "context": "The man turned on the faucet.", "question": "effect",
         "choices": ["The toilet filled with water.", "Water flowed from the spout."],
         "label": 1},
        {"id": "1", "context": "My body cast a shadow.", "question": "cause",
         "choices": ["The toilet filled with water.", "Water flowed from the spout."],
         "label": 0}]),
    ("xcopa", "validation", "en", [
        {"id": "400", "context": "The man turned on the faucet.", "question": "cause",
         "choices": ["The toilet filled with water.", "Water flowed from the spout."],
         "label": 1}]),
    ("tweet_sentiment", "test", "hi", [
        {"id": "test-0", "text_a": "बहुत अच्छा", "text_b": "", "label": "positive"},
        {"id": "test-1", "text_a": "ठीक है", "text_b": "", "label": "neutral"},
        {"id": "test-2", "text_a": "बुरा", "text_b": "", "label": "negative"}]),
    ("tweet_sentiment", "train", "en", [
        {"id": "train-0", "text_a": "I love it @user", "text_b": "", "label": "positive"}]),
    ("sib200", "train", "ha", [
        {"id": "1476", "text_a": "Masana kimiyya sun ce.", "text_b": "",
         "label": "science/technology"},
        {"id": "17", "text_a": "Kogin Nilu yana da tsawo.", "text_b": "", "label": "geography"}]),
    ("sib200", "train", "en", [
        {"id": "1476", "text_a": "Scientists say.", "text_b": "", "label": "science/technology"}]),
    ("masakhaner", "train", "yo", [
        {"id": "0", "tokens": ["Ọ̀gbẹ́ni", "Adé", "lọ", "sí", "Èkó", "ní", "ọjọ́", "Ajé"],
         "tags": ["O", "B-PER", "O", "O", "B-LOC", "O", "B-DATE", "I-DATE"]}]),
]


@pytest.mark.parametrize("name,split,lang,rows", HUB_CASES)
@pytest.mark.usefixtures("fake_hub")
def test_hub_schema(name, split, lang, rows):
    task = get_task(name)
    ds = load_split(task, split, lang, HUB_SRC)
    assert ds.features == features_for(task)
    assert _named(ds) == rows


def test_hub_ids(monkeypatch):
    """The hub dataset ids, configs and splits each language is read from."""
    reads = [("xcopa", "test", "zh"), ("xcopa", "validation", "en"), ("xcopa", "train", "en"),
             ("tweet_sentiment", "validation", "pt"), ("sib200", "train", "qu"),
             ("sib200", "test", "zh"), ("masakhaner", "validation", "sw"),
             ("masakhaner", "train", "pcm")]
    assert hub_requests(monkeypatch, reads) == [("cambridgeltl/xcopa", "zh", "test"),
                     ("aps/super_glue", "copa", "validation"),
                     ("aps/super_glue", "copa", "train"),
                     ("cardiffnlp/tweet_sentiment_multilingual", "portuguese", "validation"),
                     ("Davlan/sib200", "quy_Latn", "train"),
                     ("Davlan/sib200", "zho_Hans", "test"),
                     ("masakhane/masakhaner2", "swa", "validation"),
                     ("masakhane/masakhaner2", "pcm", "train")]


# ---------------------------------------------------------------- XTREME-R download/ layout


@pytest.fixture(scope="module")
def xtreme_root(tmp_path_factory):
    return write_xtreme_download(tmp_path_factory.mktemp("download"))


def test_xtreme_dir_xcopa(xtreme_root):
    src = {"kind": "xtreme_dir", "path": str(xtreme_root)}
    train = load_split("xcopa", "train", "en", src)  # xcopa/train.en.jsonl via copa
    assert train.features == features_for(get_task("xcopa"))
    assert train["label"] == [0, 1] and train["question"] == ["cause", "cause"]
    assert train[0]["context"] == "My body cast a shadow over the grass."
    assert train[0]["choices"] == ["The sun was rising.", "The grass was cut."]
    assert load_split("xcopa", "validation", "en", src)["id"] == ["400"]
    test = load_split("xcopa", "test", "qu", src)
    assert test.to_list() == [{"id": "1", "context": "Warmiqa puñurqan.", "question": "effect",
                               "choices": ["a", "b"], "label": 1}]
    with pytest.raises(DataError, match=r"xcopa/test-de\.jsonl"):
        load_split("xcopa", "test", "de", src)


@pytest.mark.usefixtures("fake_hub")
def test_xtreme_dir_reads_hub_for_others(xtreme_root):
    """Tasks outside xtreme's download layout come from the hub even with an xtreme_dir source."""
    src = {"kind": "xtreme_dir", "path": str(xtreme_root)}
    assert load_split("tweet_sentiment", "test", "hi", src)["label"] == [2, 1, 0]
    assert load_split("sib200", "train", "ha", src)["id"] == ["1476", "17"]


# ---------------------------------------------------------------- mini-XTREME round trips


def _mc(n: int) -> list[dict]:
    return [{"id": str(i), "context": f"premise {i}", "question": ("cause", "effect")[i % 2],
             "choices": [f"a {i}", f"b {i}"], "label": i % 2} for i in range(n)]


def test_round_trip_xcopa(tmp_path):
    src = {"kind": "synthetic", "path": str(tmp_path)}
    paths = {split: write_canonical("xcopa", split, lang, _mc(3), tmp_path)
             for split, lang in (("train", "en"), ("validation", "en"), ("test", "sx"))}
    assert paths["train"] == [tmp_path / "hub" / "copa" / "train.jsonl"]
    assert paths["validation"] == [tmp_path / "xtreme" / "xcopa" / "val-en.jsonl"]
    assert paths["test"] == [tmp_path / "xtreme" / "xcopa" / "test-sx.jsonl"]
    for split, lang in (("train", "en"), ("validation", "en"), ("test", "sx")):
        assert load_split("xcopa", split, lang, src).to_list() == _mc(3)
    # without an English XCOPA dev file, the English dev set is COPA's
    write_canonical("copa", "validation", "en", _mc(1), tmp_path)
    (tmp_path / "xtreme" / "xcopa" / "val-en.jsonl").unlink()
    load.clear_cache()
    assert load_split("xcopa", "validation", "en", src).to_list() == _mc(1)


def test_round_trip_tweet_sentiment(tmp_path):
    src = {"kind": "synthetic", "path": str(tmp_path)}
    recs = [{"id": str(i), "text_a": f"tweet {i}", "text_b": "", "label": i % 3} for i in range(3)]
    paths = write_canonical("tweet_sentiment", "test", "sx", recs, tmp_path)
    assert paths == [tmp_path / "hub" / "tweet_sentiment" / "test-sx.jsonl"]
    write_canonical("tweet_sentiment", "train", "en", recs, tmp_path)
    assert load_split("tweet_sentiment", "test", "sx", src).to_list() == recs
    assert load_split("tweet_sentiment", "train", "en", src).to_list() == recs


@pytest.mark.parametrize("lang", ["en", "sx"])
def test_round_trip_multilingual_intermediate(tmp_path, lang):
    src = {"kind": "synthetic", "path": str(tmp_path)}
    sib = get_task("sib200")
    recs = [{"id": str(i), "text_a": f"s {i}", "text_b": "", "label": sib.labels[i]}
            for i in range(7)]
    write_canonical(sib, "train", lang, recs, tmp_path)
    assert _named(load_split(sib, "train", lang, src)) == recs
    suffix = "" if lang == "en" else f"-{lang}"
    assert (tmp_path / "hub" / "sib200" / f"train{suffix}.jsonl").read_text().count(
        '"category": "science/technology"') == 1
    ner = [{"id": "0", "tokens": ["Adé", "lọ", "Èkó", "Ajé"],
            "tags": ["B-PER", "O", "B-LOC", "B-DATE"]}]
    write_canonical("masakhaner", "validation", lang, ner, tmp_path)
    assert _named(load_split("masakhaner", "validation", lang, src)) == ner
    assert '"ner_tags": [1, 0, 5, 7]' in (
        tmp_path / "hub" / "masakhaner" / f"validation{suffix}.jsonl").read_text()


def test_single_sentence_task_rejects_text_b(tmp_path):
    recs = [{"id": "0", "text_a": "a", "text_b": "b", "label": "travel"}]
    with pytest.raises(DataError, match="single-sentence.*text_b"):
        write_canonical("sib200", "train", "en", recs, tmp_path)
