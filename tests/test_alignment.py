"""Layer-wise alignment: metrics on hand-made embeddings, the stage on a tiny encoder and a tiny
mini-XTREME, and the alignment tables/figures."""

from __future__ import annotations

import json
import math
import types
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_engine_common import _tmpdir, tiny_encoder

from xstilts.data.schema import DataError
from xstilts.studies.alignment.measure import (
    _accuracy,
    alignment_change,
    center,
    layer_metrics,
    linear_cka,
    mean_parallel_cosine,
    parallel_pairs,
    retrieval_accuracy,
    tatoeba_pairs,
)

# ----------------------------------------------------------------------------- pure metrics


def test_accuracy_on_a_known_case():
    src = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    assert _accuracy(src, src) == 100.0
    swapped = src[[1, 0, 2]]
    assert abs(_accuracy(src, swapped) - 100 / 3) < 1e-9


def test_retrieval_accuracy_averages_both_directions():
    src = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 10]], dtype=float)
    tgt = np.array([[0.9, 0.1, 0], [0.1, 0.9, 0.2], [0.8, 0, 0.5]])
    # target -> source: target 2 is closest to source 0 (2/3); source -> target: 3/3
    assert _accuracy(tgt, src) == pytest.approx(200 / 3)
    assert _accuracy(src, tgt) == 100.0
    assert retrieval_accuracy(src, tgt) == pytest.approx(250 / 3)
    assert retrieval_accuracy(tgt, src) == pytest.approx(250 / 3)
    with pytest.raises(ValueError, match="parallel rows"):
        retrieval_accuracy(src, tgt[:2])


def test_retrieval_accuracy_after_unpermuting():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 16))
    perm = rng.permutation(30)
    y = x[perm] * 3.0  # y[k] = 3 x[perm[k]]
    assert retrieval_accuracy(x, y) < 20
    assert retrieval_accuracy(x, y[np.argsort(perm)]) == 100.0


def test_centering_removes_a_language_offset():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(20, 8))
    noisy = base + 50.0 + rng.normal(scale=0.01, size=base.shape)  # a large language offset
    assert _accuracy(noisy - noisy.mean(0), base - base.mean(0)) == 100.0
    assert retrieval_accuracy(noisy, base, centered=True) == 100.0
    assert retrieval_accuracy(noisy, base) < 100.0
    assert np.allclose(center(noisy).mean(0), 0.0)


def test_cka_of_a_matrix_with_itself_is_one():
    rng = np.random.default_rng(2)
    for shape in ((50, 8), (6, 20)):  # feature form and Gram form
        x = rng.normal(size=shape)
        assert linear_cka(x, x) == pytest.approx(1.0)


def test_cka_invariant_to_orthogonal_transform_and_scaling():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(40, 6)), rng.normal(size=(40, 9))
    y = y + x @ rng.normal(size=(6, 9))  # related, so CKA is far from 0 and 1
    q, _ = np.linalg.qr(rng.normal(size=(9, 9)))
    ref = linear_cka(x, y)
    assert 0.2 < ref < 0.99
    assert linear_cka(x, y @ q) == pytest.approx(ref)
    assert linear_cka(x, 7.5 * y) == pytest.approx(ref)
    assert linear_cka(x * 0.01 + 3.0, y) == pytest.approx(ref)  # and to a shift (centred)
    assert linear_cka(y, x) == pytest.approx(ref)


def test_cka_small_for_independent_random_matrices():
    rng = np.random.default_rng(4)
    assert linear_cka(rng.normal(size=(500, 5)), rng.normal(size=(500, 5))) < 0.05


def test_cka_is_squared_correlation_in_one_dimension_and_matches_gram_form():
    x = np.array([[1.0], [2.0], [3.0], [5.0]])
    y = np.array([[1.0], [2.0], [4.0], [4.0]])
    assert linear_cka(x, y) == pytest.approx(np.corrcoef(x[:, 0], y[:, 0])[0, 1] ** 2)
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(8, 10)), rng.normal(size=(8, 12))  # Gram form (n <= d)
    ac, bc = a - a.mean(0), b - b.mean(0)
    naive = (np.linalg.norm(bc.T @ ac) ** 2
             / (np.linalg.norm(ac.T @ ac) * np.linalg.norm(bc.T @ bc)))
    assert linear_cka(a, b) == pytest.approx(naive)
    assert math.isnan(linear_cka(np.ones((4, 3)), y.repeat(3, axis=1)))


def test_mean_parallel_cosine_by_hand():
    x = np.array([[1.0, 0.0], [-1.0, 0.0]])
    assert mean_parallel_cosine(x + 5.0, 2 * x) == pytest.approx(1.0)  # offsets removed
    assert mean_parallel_cosine(x, np.array([[0.0, 1.0], [0.0, -1.0]])) == pytest.approx(0.0)
    assert mean_parallel_cosine(x, -x) == pytest.approx(-1.0)
    raw = mean_parallel_cosine(x + 5.0, 2 * x, centered=False)
    assert raw == pytest.approx((6 / math.sqrt(61) - 4 / math.sqrt(41)) / 2)


def test_layer_metrics_and_change():
    rng = np.random.default_rng(6)
    src = rng.normal(size=(3, 10, 4))
    out = layer_metrics(src, src)
    assert set(out) == {"acc", "acc_centered", "cka", "cosine"}
    assert out["acc"] == [100.0] * 3 and out["cosine"] == pytest.approx([1.0] * 3)
    with pytest.raises(ValueError, match="layers"):
        layer_metrics(src, src[:2])
    base = {"a": {"clean": {"acc": [10.0, 20.0], "cka": [0.5, None]},
                  "perturbed": {"char-0.1": {"acc": [5.0, 5.0]}, "only-base": {"acc": [1, 1]}}},
            "gone": {"clean": {"acc": [1.0, 1.0]}}}
    other = {"a": {"clean": {"acc": [15.0, 10.0], "cka": [0.75, 0.5]},
                   "perturbed": {"char-0.1": {"acc": [5.0, 8.0]}}}}
    assert alignment_change(base, other) == {
        "a": {"clean": {"acc": [5.0, -10.0], "cka": [0.25, None]},
              "perturbed": {"char-0.1": {"acc": [0.0, 3.0]}}}}


# ----------------------------------------------------------------------------- the stage

LANGS = ["dano", "saxo"]


@cache
def _bench() -> Path:
    from xstilts.data.synthetic import DEFAULT_CONFIG, generate

    sizes = {task: {split: ({k: 4 for k in v} if isinstance(v, dict) else 4)
                    for split, v in s.items()} for task, s in DEFAULT_CONFIG["sizes"].items()}
    sizes["tatoeba"] = {"test": 12}
    sizes["bucc2018"] = {s: {"gold": 5, "distractors": 4} for s in ("validation", "test")}
    root = _tmpdir() / "mini"
    generate(root, {"seed": 3, "languages": ["en", *LANGS], "sizes": sizes,
                    "translated_train": 4, "parallel": 4,
                    "mlm": {"high": 20, "mid": 10, "low": 5, "validation": 2}})
    return root


@pytest.fixture(autouse=True)
def _keep_torch_threads():
    import torch

    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def _spec(tmp_path: Path, **extra) -> dict:
    return {"model_path": str(tiny_encoder()),
            "benchmark": {"source": "synthetic", "path": str(_bench())},
            "limit": 10, "seed": 1, "out": str(tmp_path / "alignment.json"),
            "ids": {"model": "tiny", "recipe": "none", "seed": 1}, **extra}


def _upper(texts, ids, lang):
    return [t.upper() for t in texts]


def test_pairs_from_tatoeba_and_bucc():
    source = {"kind": "synthetic", "path": str(_bench()), "ccg_path": None}
    pairs = parallel_pairs(source, "tatoeba", limit=5)
    assert sorted(pairs) == LANGS
    assert all(len(p.texts) == len(p.english) == len(p.ids) == 5 for p in pairs.values())
    assert tatoeba_pairs(_bench(), ["dano"], limit=5) == {
        "dano": (pairs["dano"].texts, pairs["dano"].english)}
    from xstilts.data.load import load_split

    bucc = parallel_pairs(source, "bucc2018", ["dano"])["dano"]
    ds = load_split("bucc2018", "validation", "dano", source)
    src = dict(zip(ds["source"]["id"], ds["source"]["text"], strict=True))
    tgt = dict(zip(ds["target"]["id"], ds["target"]["text"], strict=True))
    gold = list(zip(ds["gold"]["source_id"], ds["gold"]["target_id"], strict=True))
    assert bucc.ids == [s for s, _ in gold]
    assert bucc.texts == [src[s] for s, _ in gold]
    assert bucc.english == [tgt[t] for _, t in gold]
    with pytest.raises(ValueError, match="not retrieval"):
        parallel_pairs(source, "xnli")


def test_stage_writes_clean_and_perturbed_metrics(tmp_path):
    from xstilts.stages.alignment import run

    calls = []

    def identity(texts, ids, lang):
        calls.append((lang, list(ids)))
        return list(texts)

    def only_dano(texts, ids, lang):
        return None if lang == "saxo" else _upper(texts, ids, lang)

    out = run(_spec(tmp_path), perturbations={"identity-0": identity, "upper-1": only_dano})
    written = json.loads(Path(tmp_path / "alignment.json").read_text())
    assert written == json.loads(json.dumps(out))
    assert written["model"] == "tiny" and written["recipe"] == "none"
    assert written["layers"] == 2 and written["retrieval_layer"] == 2
    assert written["num_pairs"] == {"dano": 10, "saxo": 10}
    assert sorted(written["languages"]) == LANGS
    assert [lang for lang, _ in calls] == LANGS and calls[0][1] == [str(i) for i in range(10)]
    for lang, entry in written["languages"].items():
        clean = entry["clean"]
        assert set(clean) == {"acc", "acc_centered", "cka", "cosine"}
        assert all(len(v) == 3 for v in clean.values())
        assert all(0 <= a <= 100 for a in clean["acc"] + clean["acc_centered"])
        assert all(c is None or -1e-9 <= c <= 1 + 1e-9 for c in clean["cka"])
        assert entry["perturbed"]["identity-0"] == clean  # the same texts, the same numbers
        assert ("upper-1" in entry["perturbed"]) == (lang == "dano")
    assert written["languages"]["dano"]["perturbed"]["upper-1"] != \
        written["languages"]["dano"]["clean"]
    with pytest.raises(ValueError, match="returned 1 texts"):
        run(_spec(tmp_path), perturbations={"bad": lambda t, i, lang: t[:1]})


def test_perturb_adapter_uses_the_perturb_contract():
    from xstilts.stages.alignment import perturb_functions

    built, keys = [], []

    class Ctx:
        @staticmethod
        def build(lang, source, tokenizer_dir=None, *, texts=()):
            built.append((lang, tokenizer_dir, tuple(texts)))
            return lang

    def perturb_text(text, op, severity, ctx, key):
        keys.append(key)
        return f"{text}~{op}{severity}"

    fake = types.SimpleNamespace(OPERATIONS=("char", "code_switch"), PerturbContext=Ctx,
                                 perturb_text=perturb_text,
                                 applicable=lambda op, ctx, fmt: not (op == "code_switch"
                                                                      and ctx == "b"))
    specs = [{"op": "char", "severity": 0.2}, {"op": "code_switch", "severity": 0.5}]
    fns = perturb_functions(specs, {"kind": "synthetic"}, 7, "tatoeba", "enc", module=fake)
    assert sorted(fns) == ["char-0.2", "code_switch-0.5"]
    assert fns["char-0.2"](["x", "y"], ["1", "2"], "a") == ["x~char0.2", "y~char0.2"]
    assert keys == [(7, "tatoeba", "a", "1", "char"), (7, "tatoeba", "a", "2", "char")]
    assert fns["code_switch-0.5"](["x"], ["1"], "b") is None
    fns["char-0.2"](["x"], ["1"], "a")
    assert built == [("a", "enc", ("x", "y")), ("b", "enc", ("x",))]  # one per language
    with pytest.raises(ValueError, match=r"perturbations\[0\].op 'nope'"):
        perturb_functions([{"op": "nope", "severity": 1}], {}, 1, module=fake)
    with pytest.raises(ValueError, match=r"perturbations\[0\]"):
        perturb_functions([{"op": "char"}], {}, 1, module=fake)


def test_stage_with_the_perturb_module(tmp_path):
    pytest.importorskip("xstilts.perturb")
    from xstilts.stages.alignment import run

    out = run(_spec(tmp_path, languages=["dano"], limit=8,
                    perturbations=[{"op": "char", "severity": 0.5},
                                   {"op": "code_switch", "severity": 1.0}]))
    assert out["skipped_perturbations"] == []
    perturbed = out["languages"]["dano"]["perturbed"]
    assert set(perturbed) <= {"char-0.5", "code_switch-1.0"} and "char-0.5" in perturbed
    assert perturbed["char-0.5"] != out["languages"]["dano"]["clean"]
    again = run(_spec(tmp_path, languages=["dano"], limit=8,
                      perturbations=[{"op": "char", "severity": 0.5}]))
    assert again["languages"]["dano"]["perturbed"]["char-0.5"] == perturbed["char-0.5"]


def test_change_between_encoders_is_zero_for_the_same_encoder(tmp_path):
    from xstilts.stages.alignment import run

    a = run(_spec(tmp_path, languages=["dano"], limit=6))
    b = run(_spec(tmp_path, languages=["dano"], limit=6,
                  ids={"model": "tiny", "recipe": "mnli", "seed": 1}))
    change = alignment_change(a["languages"], b["languages"])
    assert all(v in (0.0, None) for vals in change["dano"]["clean"].values() for v in vals)


# ----------------------------------------------------------------------------- tables/figures

FIG_LANGS = {"aa": 0.0, "bb": 1.0, "cc": 2.0, "dd": 3.0}
RECIPES = {"none": 0.0, "mnli": 1.0, "squad": -0.5}


def _alignment_files(root: Path) -> list[Path]:
    files = []
    for recipe, r_off in RECIPES.items():
        for seed in (1, 2):
            langs = {}
            for lang, l_off in FIG_LANGS.items():
                clean = {m: [10 * l_off + 5 * r_off * (1 + l_off) + layer + 0.1 * seed
                             for layer in range(3)] for m in ("acc", "acc_centered")}
                clean["cka"] = [0.5 + 0.01 * r_off * l_off, None, 0.4]
                clean["cosine"] = [0.1, 0.2, 0.3]
                noisy = {m: [v - 2.0 for v in vals] for m, vals in clean.items() if m != "cka"}
                langs[lang] = {"clean": clean, "perturbed": {"char-0.1": noisy}}
            path = root / f"{recipe}-{seed}.json"
            path.write_text(json.dumps({"model": "tiny", "recipe": recipe, "seed": seed,
                                        "layers": 2, "languages": langs}))
            files.append(path)
    return files


def _scores() -> pd.DataFrame:
    rows = []
    for recipe, r_off in RECIPES.items():
        for seed in (1, 2):
            for target in ("xnli", "pawsx", "tatoeba"):
                for lang, l_off in {**FIG_LANGS, "en": 0.0}.items():
                    gain = 3 * r_off * (1 + l_off) + (50 if target == "tatoeba" else 0)
                    value = 40 + gain + (seed - 1.5) + (target == "pawsx")
                    rows.append({"model": "tiny", "recipe": recipe, "seed": seed,
                                 "target": target, "language": lang, "metric": "score",
                                 "value": value})
    return pd.DataFrame(rows)


def test_alignment_frame_change_gain_and_correlation(tmp_path):
    from xstilts.studies.alignment.tables import (
        alignment_change as change_frame,
    )
    from xstilts.studies.alignment.tables import (
        change_vs_gain,
        correlation_table,
        read_alignment,
        stability_table,
        transfer_gain,
    )

    frame = read_alignment(_alignment_files(tmp_path))
    assert list(frame.columns) == ["model", "recipe", "seed", "language", "layer",
                                   "metric", "condition", "value"]
    assert len(frame) == 3 * 2 * 4 * (4 * 3 + 3 * 3)
    change = change_frame(frame, "none")
    one = change[(change["recipe"] == "mnli") & (change["language"] == "bb")
                 & (change["metric"] == "acc") & (change["condition"] == "clean")]
    assert one["change"].tolist() == pytest.approx([10.0] * 3)  # 5 * 1 * (1 + 1)
    stab = stability_table(frame)
    assert set(stab["condition"]) == {"char-0.1"}
    assert stab["delta"].tolist() == pytest.approx([-2.0] * len(stab))
    gain = transfer_gain(_scores())
    assert set(gain["n_targets"]) == {2}  # tatoeba (retrieval) is left out
    row = gain[(gain["recipe"] == "mnli") & (gain["language"] == "cc")]
    assert row["gain"].item() == pytest.approx(9.0)
    joined = change_vs_gain(frame, _scores(), "acc", "mean")
    assert len(joined) == 2 * 4  # en has no alignment
    assert np.allclose(joined["gain"], 0.6 * joined["change"])
    corr = correlation_table(joined)
    assert corr["pearson_r"].item() == pytest.approx(1.0)
    assert corr["spearman_rho"].item() == pytest.approx(1.0)
    assert corr["n"].item() == 8


def test_correlation():
    from xstilts.studies.alignment.tables import correlation

    x, y = [1.0, 2.0, 3.0, 4.0, 10.0], [2.0, 1.0, 4.0, 3.0, 5.0]
    corr = correlation(x, y)
    assert corr["spearman_rho"] == pytest.approx(0.8)
    assert 0 < corr["pearson_p"] < 1 and 0 < corr["spearman_p"] < 1
    assert math.isnan(correlation([1, 2], [3, 4])["pearson_r"])


def _check_image(path: Path) -> None:
    data = path.read_bytes()
    magic = b"\x89PNG\r\n\x1a\n" if path.suffix == ".png" else b"%PDF-"
    assert len(data) > 1000 and data.startswith(magic), path


def _report(**spec) -> int:
    from xstilts.cli import main

    return main(["alignment-report", "--spec", json.dumps(spec)], allow_worker=False)


def test_outputs_are_written(tmp_path, capsys):
    files = [str(f) for f in _alignment_files(tmp_path)]
    scores_csv = tmp_path / "tidy.csv"
    _scores().to_csv(scores_csv, index=False)
    out, figs = tmp_path / "tables", tmp_path / "figures"
    assert _report(files=files, tables=str(out), figures=str(figs), scores=str(scores_csv)) == 0
    names = {p.name for p in out.iterdir()}
    stems = {"alignment_by_layer", "alignment_stability", "alignment_change",
             "alignment_vs_gain", "alignment_vs_gain_correlation"}
    assert {f"{s}.{e}" for s in stems for e in ("csv", "md")} | {"alignment_tidy.csv"} == names
    figures = {"alignment_by_layer", "alignment_change_by_layer", "alignment_vs_gain"}
    assert {p.name for p in figs.iterdir()} == {f"{s}.{e}" for s in figures
                                                for e in ("png", "pdf")}
    for path in figs.iterdir():
        _check_image(path)
    capsys.readouterr()
    assert _report(files=files, tables=str(out)) == 1  # no figures folder
    assert "missing key 'figures'" in capsys.readouterr().err
    md = (out / "alignment_vs_gain_correlation.md").read_text()
    assert "1.000" in md
    wide = pd.read_csv(out / "alignment_by_layer.csv")
    assert list(wide.columns) == ["model", "recipe", "condition", "metric", "L0", "L1",
                                  "L2"]


def test_bad_alignment_files_name_the_key(tmp_path):
    from xstilts.studies.alignment.tables import read_alignment

    good = _alignment_files(tmp_path)[0]
    raw = json.loads(good.read_text())
    raw["languages"]["aa"]["clean"]["acc"] = [1.0]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(raw))
    with pytest.raises(DataError, match=r"bad.json: languages.aa.clean.acc: expected a list of 3"):
        read_alignment([bad])
    with pytest.raises(DataError, match="duplicate run"):
        read_alignment([good, good])
    bad.write_text(json.dumps({"model": "m"}))
    with pytest.raises(DataError, match="missing key"):
        read_alignment([bad])
