"""Real layouts: raw samples -> the official XTREME preprocessing (re-implemented in
xstilts.data.official_layout) -> xstilts' readers. Blanked splits are refused with one line;
unblanked originals load with counts, Unicode and answer offsets intact and score right."""

from __future__ import annotations

import json
import unicodedata

import datasets
import pytest
from official_samples import (
    COPA,
    PANX,
    PAWSX,
    UDPOS,
    XCOPA,
    XNLI_ROWS,
    XNLI_TRAIN,
    XQUAD_TEXT,
    mlqa_originals,
    tydiqa_originals,
    xquad_originals,
)

from xstilts.data import load, official_layout
from xstilts.data.load import load_split
from xstilts.data.schema import DataError
from xstilts.data.withheld import WithheldLabelsError
from xstilts.stages.evaluate import predict_and_score
from xstilts.tasks.registry import get_task

LANGS12 = sorted(XQUAD_TEXT)


@pytest.fixture(autouse=True)
def _fresh_cache():
    load.clear_cache()
    yield
    load.clear_cache()


def _download(root, blank: bool):
    official_layout.xquad(xquad_originals(), root, blank)
    official_layout.mlqa(mlqa_originals(), root, blank)
    official_layout.tydiqa(*tydiqa_originals(), root, blank)
    official_layout.xnli(XNLI_TRAIN, XNLI_ROWS, root, blank)
    official_layout.pawsx(PAWSX, root, blank)
    official_layout.udpos(UDPOS, root, blank)
    official_layout.panx(PANX, root, blank)
    official_layout.xcopa(COPA, XCOPA, root, blank)
    return {"kind": "xtreme_dir", "path": str(root)}


@pytest.fixture(scope="module")
def blanked(tmp_path_factory):
    return _download(tmp_path_factory.mktemp("blanked"), blank=True)


@pytest.fixture(scope="module")
def unblanked(tmp_path_factory):
    return _download(tmp_path_factory.mktemp("unblanked"), blank=False)


def _refused(task, split, lang, source, file_part):
    with pytest.raises(WithheldLabelsError) as err:
        load_split(task, split, lang, source)
    msg = str(err.value)
    assert "\n" not in msg and file_part in msg
    assert "blanks test labels" in msg and "benchmark.gold_path" in msg
    assert "benchmark.eval_split" in msg
    return msg


def test_blanked_file_is_what_the_official_script_writes(blanked, tmp_path):
    """One article per question, no title, ASCII escapes, {answer_start: 0, text: ""}."""
    raw = (tmp_path / "x.json")
    official_layout.write_blanked_squad(xquad_originals()["ru"], raw)
    text = raw.read_text("utf-8")
    assert text.isascii() and "\\u0414\\u0443\\u043d\\u0430\\u0439" in text  # "Дунай" escaped
    data = json.loads(text)
    assert [list(d) for d in data["data"]] == [["paragraphs"], ["paragraphs"]]
    assert data["data"][1]["paragraphs"][0]["qas"][0]["answers"] == [
        {"answer_start": 0, "text": ""}]


@pytest.mark.parametrize("lang", LANGS12)
def test_xquad_blanked_refused(blanked, lang):
    msg = _refused("xquad", "test", lang, blanked, f"xquad/xquad.{lang}.json")
    assert "all 2 answers are blank" in msg


@pytest.mark.parametrize("lang", LANGS12)
def test_xquad_unblanked_counts_unicode_offsets(unblanked, lang):
    ds = load_split("xquad", "test", lang, unblanked)
    ctx, qas = XQUAD_TEXT[lang]
    assert len(ds) == 2 and ds["id"] == ["5a7e1c3b8f2d4e6a90b1c2d3", "5a7e1c3b8f2d4e6a90b1c2d4"]
    assert ds[0]["context"] == ctx and unicodedata.is_normalized("NFC", ds[0]["context"])
    assert ds["question"] == [q for q, _ in qas]
    for row, (_, answer) in zip(ds, qas, strict=True):
        (start,), (text,) = row["answers"]["answer_start"], row["answers"]["text"]
        assert text == answer and row["context"][start:start + len(text)] == answer


class _Perfect:
    """Predicts the gold answer (or a fixed string) for every question."""

    def __init__(self, fixed=None):
        self.fixed = fixed

    def predict(self, ds):
        return [self.fixed if self.fixed is not None else a["text"][0] for a in ds["answers"]]


@pytest.mark.parametrize("lang", ["en", "ar", "th", "zh"])
def test_xquad_full_path_scores_right(unblanked, lang):
    task = get_task("xquad")
    ds = load_split(task, "test", lang, unblanked)
    assert predict_and_score(task, _Perfect(), ds, lang, unblanked)[2] == {
        "exact_match": 100.0, "f1": 100.0}
    # empty predictions score 0 (on blanked gold they would have "matched" every answer)
    assert predict_and_score(task, _Perfect(""), ds, lang, unblanked)[2] == {
        "exact_match": 0.0, "f1": 0.0}


def test_mlqa(blanked, unblanked):
    _refused("mlqa", "test", "de", blanked, "MLQA_V1/test/test-context-de-question-de.json")
    dev = load_split("mlqa", "validation", "hi", blanked)  # dev keeps its answers
    assert dev["answers"][0] == {"text": ["नई दिल्ली"], "answer_start": [0]}
    test = load_split("mlqa", "test", "de", unblanked)
    assert [a["text"] for a in test["answers"]] == [["3,7 Millionen"], ["Berlin"]]


def test_tydiqa(blanked, unblanked):
    train = load_split("tydiqa", "train", "en", blanked)
    assert train["id"] == ["0", "1"] and train[0]["answers"]["text"] == ["Mount Kilimanjaro"]
    ar = load_split("tydiqa", "train", "ar", blanked)
    assert ar[0]["context"] == "القاهرة هي عاصمة مصر وأكبر مدنها."
    # XTREME's test is the blanked GoldP dev set; so is xstilts' validation fallback
    _refused("tydiqa", "test", "sw", blanked, "tydiqa.goldp.sw.dev.json")
    _refused("tydiqa", "validation", "en", blanked, "tydiqa.goldp.en.dev.json")
    assert load_split("tydiqa", "test", "sw", unblanked)["answers"][0]["text"] == ["Dar es Salaam"]


@pytest.mark.parametrize("task,lang,n", [("xnli", "en", 2), ("xnli", "ur", 1), ("pawsx", "ja", 2),
                                         ("pawsx", "ko", 1)])
def test_pair_tsv_test_without_labels_refused(blanked, unblanked, task, lang, n):
    msg = _refused(task, "test", lang, blanked, f"{task}/test-{lang}.tsv")
    assert f"none of the {n} rows has a label" in msg
    assert len(load_split(task, "test", lang, unblanked)) == n


def test_pair_tsv_labelled_splits(blanked):
    train = load_split("xnli", "train", "en", blanked)
    assert train.features["label"].int2str(train["label"]) == ["neutral", "contradiction"]
    dev = load_split("xnli", "validation", "ur", blanked)
    assert dev[0]["text_a"] == "لڑکا کتاب پڑھ رہا ہے۔" and dev[0]["label"] == 0
    assert load_split("pawsx", "validation", "ja", blanked)["label"] == [1]


@pytest.mark.parametrize("task,lang,n", [("udpos", "hi", 2), ("udpos", "ja", 1), ("panx", "ar", 2),
                                         ("panx", "ta", 1)])
def test_tagging_test_tokens_only_refused(blanked, unblanked, task, lang, n):
    msg = _refused(task, "test", lang, blanked, f"{task}/test-{lang}.tsv")
    assert f"all {n} sentences have tokens but no tags" in msg
    ds = load_split(task, "test", lang, unblanked)
    names = ds.features["tags"].feature
    gold = (UDPOS if task == "udpos" else PANX)["test", lang]
    assert [[names.int2str(t) for t in row] for row in ds["tags"]] == [
        [t for _, t in s] for s in gold]
    assert ds["tokens"] == [[w for w, _ in s] for s in gold]


def test_tagging_labelled_splits(blanked):
    assert load_split("udpos", "validation", "hi", blanked)["tokens"] == [["राम", "घर", "गया", "।"]]
    assert len(load_split("udpos", "train", "en", blanked)) == 2
    assert load_split("panx", "validation", "ar", blanked)["tokens"][0][1] == "محمد"


def test_xcopa_today_layout(blanked, unblanked):
    root = blanked["path"]
    names = sorted(p.name for p in (official_layout.Path(root) / "xcopa").iterdir())
    assert names == ["test-en.jsonl", "test-qu.jsonl", "test-th.jsonl", "test-zh.jsonl",
                     "train-en.jsonl", "val-en.jsonl", "val-qu.jsonl"]
    assert load_split("xcopa", "train", "en", blanked)["id"] == ["1", "2"]  # COPA
    assert load_split("xcopa", "validation", "en", blanked)["label"] == [1]
    assert load_split("xcopa", "validation", "qu", blanked)["context"] == ["Warmiqa puñurqan."]
    for lang in ("qu", "th", "zh"):
        msg = _refused("xcopa", "test", lang, blanked, f"xcopa/test-{lang}.jsonl")
        assert "all 2 labels are 0" in msg
        assert load_split("xcopa", "test", lang, unblanked)["label"] == [
            r["label"] for r in XCOPA["test", lang]]


def test_partially_blanked_qa_refused(tmp_path):
    data = xquad_originals()["de"]
    data["data"][0]["paragraphs"][0]["qas"][1]["answers"] = [{"answer_start": 0, "text": ""}]
    official_layout.write_squad(data, tmp_path / "xquad" / "xquad.de.json")
    with pytest.raises(WithheldLabelsError, match=r"1 of 2 questions have only blank answers"):
        load_split("xquad", "test", "de", {"kind": "xtreme_dir", "path": str(tmp_path)})


# ---------------------------------------------------------------- hub XQuAD (stripped)


@pytest.mark.parametrize("lang", LANGS12)
def test_hub_xquad_offsets_relocated(tmp_path, monkeypatch, lang):
    rows = official_layout.hub_strip(xquad_originals()[lang])
    ctx = XQUAD_TEXT[lang][0]
    if ctx != ctx.lstrip():  # the hub's strip() shifted the answers
        assert any(r["context"][s:s + len(t)] != t for r in rows
                   for t, s in zip(r["answers"]["text"], r["answers"]["answer_start"],
                                   strict=True))
    file = tmp_path / "xquad.parquet"
    feats = datasets.Features({"id": datasets.Value("string"), "context": datasets.Value("string"),
                               "question": datasets.Value("string"),
                               "answers": datasets.Sequence({
                                   "text": datasets.Value("string"),
                                   "answer_start": datasets.Value("int32")})})
    datasets.Dataset.from_list(rows, features=feats).to_parquet(str(file))
    real = datasets.load_dataset

    def fake(path, name=None, split=None, **_):
        assert (path, name, split) == ("google/xtreme", f"XQuAD.{lang}", "validation")
        return real("parquet", data_files=str(file), split="train",
                    cache_dir=str(tmp_path / "c"))

    monkeypatch.setattr(datasets, "load_dataset", fake)
    ds = load_split("xquad", "test", lang, {"kind": "hub", "path": None})
    assert len(ds) == 2 and ds[0]["context"] == ctx.strip()
    for row, (_, answer) in zip(ds, XQUAD_TEXT[lang][1], strict=True):
        (start,), (text,) = row["answers"]["answer_start"], row["answers"]["text"]
        assert text == answer and row["context"][start:start + len(text)] == answer


def test_hub_relocate_picks_the_nearest_occurrence():
    from xstilts.data.hub import relocate

    ctx = "ab Paris cd Paris"
    assert relocate(ctx, "Paris", 13) == 12 and relocate(ctx, "Paris", 4) == 3
    assert relocate(ctx, "Paris", 3) == 3 and relocate(ctx, "Rome", 3) == 3


def test_blanked_error_is_a_data_error(blanked):
    with pytest.raises(DataError):
        load_split("xquad", "test", "de", blanked)


# ---------------------------------------------------------------- what to do instead


def test_gold_path_reads_the_unblanked_originals(blanked, tmp_path):
    gold = tmp_path / "xquad-checkout"  # deepmind/xquad: xquad.<l>.json at its top level
    for lang, data in xquad_originals().items():
        official_layout.write_squad(data, gold / f"xquad.{lang}.json")
    src = {**blanked, "gold_path": str(gold)}
    ds = load_split("xquad", "test", "hi", src)
    assert [a["text"] for a in ds["answers"]] == [[a] for _, a in XQUAD_TEXT["hi"][1]]
    # cambridgeltl/xcopa's own layout data/<l>/test.<l>.jsonl
    xc = tmp_path / "xcopa-checkout" / "data" / "zh"
    xc.mkdir(parents=True)
    (xc / "test.zh.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in XCOPA["test", "zh"]), "utf-8")
    src = {**blanked, "gold_path": str(tmp_path / "xcopa-checkout")}
    assert load_split("xcopa", "test", "zh", src)["label"] == [0, 1]
    _refused("xcopa", "test", "th", src, "xcopa/test-th.jsonl")  # no original for th


def test_eval_split_auto_falls_back_to_dev(blanked):
    ds, split = load.load_reported("xnli", "de", blanked, "auto")
    assert split == "validation" and ds.features["label"].int2str(ds["label"]) == ["contradiction"]
    ds, split = load.load_reported("xnli", "de", blanked, "validation")
    assert split == "validation"
    with pytest.raises(WithheldLabelsError, match="no usable validation split"):
        load.load_reported("xquad", "de", blanked, "auto")  # XQuAD has no dev set
    with pytest.raises(WithheldLabelsError, match="blanks test labels"):
        load.load_reported("xnli", "de", blanked, "test")


def test_reported_split_from_config():
    from xstilts.data.withheld import reported_split
    from xstilts.grid.config import ConfigError, _check_eval_split
    from xstilts.tasks.registry import registry

    bench = {"eval_split": {"default": "auto", "xquad": "test"}}
    assert reported_split(bench, "xquad") == "test" and reported_split(bench, "xnli") == "auto"
    assert reported_split({}, "xnli") == "test"
    with pytest.raises(ConfigError, match=r"benchmark.eval_split.xnli: 'dev'"):
        _check_eval_split({"xnli": "dev"}, registry())
    with pytest.raises(ConfigError, match=r"benchmark.eval_split.nosuch: unknown task"):
        _check_eval_split({"nosuch": "test"}, registry())


# ---------------------------------------------------------------- scoring a submission folder


def test_scoring_refuses_blanked_gold_files(tmp_path):
    """The official scorer's layout: labels/<task>/test-<lang>.json|tsv. Blanked XQuAD gold
    (empty predictions would "match") and all-0 XCOPA gold are refused, naming the file."""
    from xstilts.analysis.scoring import score_folder
    from xstilts.metrics.qa import squad_scores

    blank = official_layout.blank_squad(xquad_originals()["de"])
    with pytest.raises(ValueError, match="blank placeholders"):
        squad_scores({q: "" for q in XQUAD_IDS_ALL}, blank)
    for task, name, gold, pred in (
            ("xquad", "test-de.json", json.dumps(blank),
             json.dumps(dict.fromkeys(XQUAD_IDS_ALL, ""))),
            ("xcopa", "test-qu.tsv", "0\n0\n", "0\n0\n")):
        (tmp_path / "gold" / task).mkdir(parents=True)
        (tmp_path / "pred" / task).mkdir(parents=True)
        (tmp_path / "gold" / task / name).write_text(gold, "utf-8")
        (tmp_path / "pred" / task / name).write_text(pred, "utf-8")
        lang = name.split("-")[1].split(".")[0]
        with pytest.raises(DataError, match=rf"gold/{task}/{name}.*(withheld|placeholder)"):
            score_folder(tmp_path / "pred", tmp_path / "gold", [task], {task: [lang]})


XQUAD_IDS_ALL = ["5a7e1c3b8f2d4e6a90b1c2d3", "5a7e1c3b8f2d4e6a90b1c2d4"]


def test_conllu_conversion_fuses_multiword_tokens(tmp_path):
    conllu = ("# sent_id = 1\n# text = Vamos al río.\n"
              "1\tVamos\tir\tVERB\t_\t_\t0\troot\t_\t_\n"
              "2-3\tal\t_\t_\t_\t_\t_\t_\t_\t_\n"
              "2\ta\ta\tADP\t_\t_\t4\tcase\t_\t_\n"
              "3\tel\tel\tDET\t_\t_\t4\tdet\t_\t_\n"
              "3.1\tx\tx\tX\t_\t_\t_\t_\t_\t_\n"
              "4\trío\trío\tNOUN\t_\t_\t1\tobl\t_\tSpaceAfter=No\n"
              "5\t.\t.\tPUNCT\t_\t_\t1\tpunct\t_\t_\n\n"
              "1\t_\t_\tX\t_\t_\t0\troot\t_\t_\n2\t_\t_\tX\t_\t_\t1\tdep\t_\t_\n\n")
    sents = official_layout.conllu_words(conllu)
    assert sents == [[("Vamos", "VERB"), ("al", "ADP"), ("río", "NOUN"), (".", "PUNCT")]]
    official_layout.udpos({("test", "es"): sents}, tmp_path, blank=True)
    assert (tmp_path / "udpos" / "test-es.tsv").read_text("utf-8") == "Vamos\nal\nrío\n.\n"
    official_layout.udpos({("dev", "es"): sents * 2}, tmp_path, blank=True)
    assert (tmp_path / "udpos" / "dev-es.tsv").read_text("utf-8").endswith(
        "río\tNOUN\n.\tPUNCT\n\nVamos\tVERB\nal\tADP\nrío\tNOUN\n.\tPUNCT\n")


def test_evaluate_stage_refuses_before_loading_the_model(blanked, tmp_path):
    """The whole stage on the official (blanked) XQuAD: one-line refusal, no scores file, and
    the model (here a folder that does not exist) is never opened."""
    from xstilts.cli import main

    spec = {"target": "xquad", "benchmark": {"source": "xtreme_dir", "path": blanked["path"]},
            "model_path": str(tmp_path / "no-model"),
            "ids": {"model": "m", "recipe": "none", "seed": 1},
            "out": str(tmp_path / "scores.json"),
            "predictions": str(tmp_path / "pred" / "xquad")}
    assert main(["evaluate", "--spec", json.dumps(spec)], allow_worker=False) == 1
    assert not (tmp_path / "scores.json").exists()
    with pytest.raises(WithheldLabelsError, match=r"xquad/xquad\.en\.json.*blanks test labels"):
        from xstilts.stages import evaluate

        evaluate.run(spec)


def test_fused_finetune_refuses_withheld_gold_before_training(blanked, tmp_path):
    """The fine-tuning job that also evaluates its checkpoint checks the test gold first: on the
    official (blanked) XQuAD it stops with one line before training (the encoder, here a folder
    that does not exist, is never opened, no model is written)."""
    from xstilts.cli import main

    bench = {"source": "xtreme_dir", "path": blanked["path"]}
    evaluate = {"target": "xquad", "benchmark": bench, "model_path": str(tmp_path / "model"),
                "ids": {"model": "m", "recipe": "none", "seed": 1},
                "out": str(tmp_path / "scores.json"),
                "predictions": str(tmp_path / "pred" / "xquad")}
    spec = {"target": "xquad", "benchmark": bench, "model_path": str(tmp_path / "no-encoder"),
            "hparams": {}, "seed": 1, "out": str(tmp_path / "model"),
            "scratch": str(tmp_path / "scratch"), "evaluate": [evaluate]}
    assert main(["finetune", "--spec", json.dumps(spec)], allow_worker=False) == 1
    assert not (tmp_path / "model").exists() and not (tmp_path / "scores.json").exists()
    with pytest.raises(WithheldLabelsError, match=r"xquad/xquad\.en\.json.*blanks test labels"):
        from xstilts.stages import finetune

        finetune.run(spec)


def test_all_zero_rule_is_for_real_test_files_only(tmp_path):
    """mini-XTREME never blanks: a tiny synthetic XCOPA test set may be all 0 by chance."""
    from xstilts.data.layout import write_canonical

    recs = [{"id": str(i), "context": f"p{i}", "question": "cause", "choices": ["a", "b"],
             "label": 0} for i in range(3)]
    write_canonical("xcopa", "test", "sx", recs, tmp_path)
    assert load_split("xcopa", "test", "sx", {"kind": "synthetic", "path": str(tmp_path)})[
        "label"] == [0, 0, 0]


def test_questions_without_answers_refused_for_extractive_tasks(tmp_path):
    """XQuAD has no unanswerable questions: an empty answer list (e.g. a reader that dropped
    the blank placeholder) is a removed annotation, never scored as "unanswerable"."""
    data = xquad_originals()["zh"]
    data["data"][0]["paragraphs"][0]["qas"][0]["answers"] = []
    official_layout.write_squad(data, tmp_path / "xquad" / "xquad.zh.json")
    src = {"kind": "xtreme_dir", "path": str(tmp_path)}
    with pytest.raises(WithheldLabelsError, match=r"1 of 2 questions have no answer"):
        load_split("xquad", "test", "zh", src)
    for qa in data["data"][0]["paragraphs"][0]["qas"]:
        qa["answers"] = []
    official_layout.write_squad(data, tmp_path / "xquad" / "xquad.zh.json")
    load.clear_cache()
    with pytest.raises(WithheldLabelsError, match=r"none of the 2 questions has an answer"):
        load_split("xquad", "test", "zh", src)
