"""Multilingual intermediate tasks: the language mix, and the stage's assembly of a task's
training data from several languages (tiny mini-XTREME-like fixtures written here)."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from xstilts.data.layout import write_canonical
from xstilts.data.schema import DataError
from xstilts.stages.intermediate import _train_data, language_mix, resample, task_languages
from xstilts.stages.specs import IntermediateSpec
from xstilts.tasks.registry import get_task

LABELS = list(get_task("sib200").labels)
LANGS = ["en", "aa", "bb", "cc"]  # cc is in languages.csv but has no sib200 training file


# ------------------------------------------------------------------ language_mix
def test_language_mix_proportional_at_t1():
    assert language_mix({"en": 100, "aa": 300, "bb": 0}, 1.0, 400) == \
        {"en": 100, "aa": 300, "bb": 0}
    # a different total: 25% / 75% of 40
    assert language_mix({"en": 100, "aa": 300}, 1.0, 40) == {"en": 10, "aa": 30}


def test_language_mix_temperature_by_hand():
    # T=2: weights sqrt(100)=10, sqrt(300)=17.3205; 400 * 10/27.3205 = 146.41 -> 146,
    # 400 * 17.3205/27.3205 = 253.59 -> 254 (largest remainder takes the leftover example)
    assert language_mix({"en": 100, "aa": 300}, 2.0, 400) == {"en": 146, "aa": 254}
    # T=0.5 (sharper): weights 100^2, 300^2 -> 10% / 90%
    assert language_mix({"en": 100, "aa": 300}, 0.5, 400) == {"en": 40, "aa": 360}


def test_language_mix_large_temperature_is_uniform_and_sums_to_total():
    assert language_mix({"en": 1000, "aa": 10, "bb": 1}, 1e9, 30) == \
        {"en": 10, "aa": 10, "bb": 10}
    assert language_mix({"en": 1000, "aa": 10}, float("inf"), 7) == {"en": 3, "aa": 4}  # tie
    # ties broken by language name, never by dict order
    assert language_mix({"zz": 5, "aa": 5, "mm": 5}, 1.0, 4) == {"zz": 1, "aa": 2, "mm": 1}
    mix = language_mix({"en": 977, "aa": 13, "bb": 101, "cc": 4}, 3.0, 1095)
    assert sum(mix.values()) == 1095 and all(v > 0 for v in mix.values())


def test_language_mix_rejects_bad_input():
    with pytest.raises(ValueError, match="language_temperature must be positive"):
        language_mix({"en": 1}, 0.0, 1)
    with pytest.raises(ValueError, match="no language has examples"):
        language_mix({"en": 0}, 1.0, 5)


def test_resample_cuts_or_repeats_deterministically():
    from datasets import Dataset

    ds = Dataset.from_dict({"i": list(range(10))})
    down = resample(ds, 4, seed=1, key="t:aa")["i"]
    assert len(set(down)) == 4 and down == resample(ds, 4, seed=1, key="t:aa")["i"]
    assert down != resample(ds, 4, seed=2, key="t:aa")["i"]
    up = Counter(resample(ds, 25, seed=1, key="t:aa")["i"])
    assert sorted(up) == list(range(10)) and set(up.values()) == {2, 3}
    assert resample(ds, 10, seed=1, key="t:aa") is ds


# ------------------------------------------------------------------ stage-level assembly
def _records(lang: str, n: int) -> list[dict]:
    return [{"id": str(i), "text_a": f"{lang} sentence {i}", "text_b": "",
             "label": LABELS[i % len(LABELS)]} for i in range(n)]


@pytest.fixture
def mini(tmp_path) -> Path:
    """A mini-XTREME-like root: languages.csv (en, aa, bb, cc) and SIB-200 training data in
    hub column names for en (40), aa (10) and bb (20); English validation (8)."""
    root = tmp_path / "mini"
    root.mkdir()
    with open(root / "languages.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["lang", "name", "family", "script", "word_order", "resource_level"])
        for lang in LANGS:
            writer.writerow([lang, lang.upper(), "fam", "Latn", "SVO", "low"])
    for lang, n in (("en", 40), ("aa", 10), ("bb", 20)):
        write_canonical("sib200", "train", lang, _records(lang, n), root)
    write_canonical("sib200", "validation", "en", _records("en", 8), root)
    return root


def _spec(root: Path, seed: int = 1, **parts) -> IntermediateSpec:
    return IntermediateSpec(**{
        "benchmark": {"source": "synthetic", "path": str(root)}, "seed": seed, "tasks": {},
        "targets": [], "recipe": {"tasks": ["sib200"]}, "model_path": "", "hparams": {},
        "out": "", "scratch": "", **parts})


def _langs_of(ds) -> Counter:
    return Counter(text.split()[0] for text in ds["text_a"])


def test_default_is_english_only(mini):
    ds = _train_data(_spec(mini), "sib200", {"tasks": ["sib200"]}, LANGS)
    assert _langs_of(ds) == {"en": 40}
    assert ds.features["label"].names == LABELS


def test_all_uses_the_languages_with_training_files(mini):
    recipe = {"tasks": ["sib200"], "languages": {"sib200": "all"}}
    assert task_languages(_spec(mini), "sib200", recipe, LANGS) == ["en", "aa", "bb"]
    ds = _train_data(_spec(mini), "sib200", recipe, LANGS)
    assert _langs_of(ds) == {"en": 40, "aa": 10, "bb": 20}  # T=1: everything, as it comes


def test_listed_languages_only(mini):
    recipe = {"tasks": ["sib200"], "languages": {"sib200": ["aa", "bb"]}}
    assert _langs_of(_train_data(_spec(mini), "sib200", recipe, LANGS)) == {"aa": 10, "bb": 20}
    with pytest.raises(DataError):  # a listed language without data fails, naming the file
        _train_data(_spec(mini), "sib200", {"tasks": ["sib200"],
                                            "languages": {"sib200": ["cc"]}}, LANGS)
    with pytest.raises(ValueError, match=r"recipe languages.sib200: expected 'all'"):
        task_languages(_spec(mini), "sib200", {"languages": {"sib200": "some"}}, LANGS)


def test_temperature_resamples_languages_keeping_the_total(mini):
    recipe = {"tasks": ["sib200"], "languages": {"sib200": "all"}, "language_temperature": 1e6}
    ds = _train_data(_spec(mini), "sib200", recipe, LANGS)
    assert _langs_of(ds) == {"en": 24, "aa": 23, "bb": 23}  # 70 examples, ~uniform
    texts = [t for t in ds["text_a"] if t.startswith("aa ")]
    assert set(Counter(texts).values()) == {2, 3}  # aa upsampled: each of 10 twice or thrice
    en = [t for t in ds["text_a"] if t.startswith("en ")]
    assert len(set(en)) == 24  # en downsampled without repeats
    again = _train_data(_spec(mini), "sib200", recipe, LANGS)
    assert again["text_a"] == ds["text_a"]  # deterministic in the seed
    other = _train_data(_spec(mini, seed=2), "sib200", recipe, LANGS)
    assert other["text_a"] != ds["text_a"]
    # T=2 by hand: weights sqrt(40), sqrt(10), sqrt(20) of 70 -> 31.72, 15.86, 22.43;
    # floors 31, 15, 22 (68), the 2 left to the largest remainders aa (.86) and en (.72)
    t2 = _train_data(_spec(mini), "sib200", {**recipe, "language_temperature": 2.0}, LANGS)
    assert _langs_of(t2) == {"en": 32, "aa": 16, "bb": 22}
    assert sum(_langs_of(t2).values()) == 70


def test_translated_recipes_are_unchanged(mini):
    translated = {"tasks": ["sib200"], "translated": True}
    assert _langs_of(_train_data(_spec(mini), "sib200", translated, ["en", "aa"])) == \
        {"en": 40, "aa": 10}
    only = {**translated, "translated_only": True}
    assert _langs_of(_train_data(_spec(mini), "sib200", only, ["en", "aa", "bb"])) == \
        {"aa": 10, "bb": 20}
    # a languages entry plus translated: the listed languages and the target languages
    both = {**translated, "languages": {"sib200": ["bb"]}}
    assert task_languages(_spec(mini), "sib200", both, ["en", "aa"]) == ["bb", "aa"]


@pytest.mark.slow
def test_stage_trains_a_multilingual_adversarial_recipe(mini, tmp_path):
    """The whole stage: multilingual data at T=2 plus FreeLB, on the tiny engine encoder."""
    from test_engine_common import tiny_encoder

    from xstilts.stages import intermediate

    spec = _spec(mini, model_path=str(tiny_encoder()),
                 out=str(tmp_path / "out"), scratch=str(tmp_path / "scratch"),
                 hparams={"max_steps": 3, "batch_size": 8, "max_length": 32, "logging": 1,
                          "warmup_ratio": 0.0, "lr": 1e-3},
                 recipe={"tasks": ["sib200"], "mlm": False, "languages": {"sib200": "all"},
                         "language_temperature": 2.0,
                         "adversarial": {"method": "freelb", "steps": 2}})
    intermediate.run(spec)
    summary = json.loads((tmp_path / "out" / "train_summary.json").read_text())
    assert summary["steps"] == 3 and summary["adversarial"]["steps"] == 2
    assert (tmp_path / "out" / "model.safetensors").is_file()
