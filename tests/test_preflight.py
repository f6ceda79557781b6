"""Pre-flight data check (`xstilts check-data`, and the workflow at parse time)."""

from __future__ import annotations

import copy
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from official_samples import XNLI_ROWS, XNLI_TRAIN, xquad_originals

from xstilts.data import load, official_layout, preflight
from xstilts.io.errors import DataError

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = yaml.safe_load((ROOT / "config.yaml").read_text("utf-8"))
STUDIES = yaml.safe_load((ROOT / "config" / "studies.yaml").read_text("utf-8"))


@pytest.fixture(autouse=True)
def _fresh_cache():
    load.clear_cache()
    yield
    load.clear_cache()


def _download(root: Path, blank: bool) -> Path:
    originals = xquad_originals()
    official_layout.xquad(originals, root, blank)
    official_layout.write_squad(originals["en"], root / "squad" / "train-v1.1.json")
    official_layout.write_squad(originals["en"], root / "squad" / "dev-v1.1.json")
    official_layout.xnli(XNLI_TRAIN, XNLI_ROWS, root, blank)
    return root


def _config(path: Path | None, targets: list[str], **bench) -> dict:
    cfg = copy.deepcopy(DEFAULT)
    cfg["benchmark"] = {"source": "xtreme_dir", "path": str(path) if path else None, **bench}
    cfg["targets"] = targets
    cfg["recipes"] = {}
    cfg["hparams"].pop("recipes", None)  # per-recipe hparams name the grid's recipes
    cfg["models"] = {"tiny": {**cfg["models"]["tiny"], "recipes": ["none"]}}
    cfg["tasks"] = {"xnli": {"languages": ["en", "de", "sw", "ur"]}}
    cfg["alignment"] = {**STUDIES["alignment"], "recipes": []}  # reads Tatoeba: tested below
    return cfg


def test_default_config_passes_fast():
    started = time.perf_counter()
    preflight.check(copy.deepcopy(DEFAULT))
    assert time.perf_counter() - started < 1.0


def test_unblanked_real_layout_passes(tmp_path):
    preflight.check(_config(_download(tmp_path, blank=False), ["xquad", "xnli"]))


def test_all_problems_in_one_line(tmp_path):
    root = _download(tmp_path, blank=True)
    (root / "xquad" / "xquad.th.json").unlink()
    (root / "xquad" / "xquad.vi.json").unlink()
    cfg = _config(root, ["xquad", "xnli"])
    cfg["tasks"]["xnli"]["languages"] = ["en", "de", "sw", "ur", "fr"]  # no fr files
    with pytest.raises(DataError) as err:
        preflight.check(cfg)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("data check failed")
    # missing files, per task and split, with the languages listed
    assert "evaluate of 'xquad': no test file for language(s) vi, th" in msg
    assert "evaluate of 'xnli': no test file for language(s) fr" in msg
    # blanked gold, naming the file, for the languages that do have files
    assert msg.count("gold labels withheld") == 9 + 4  # xquad: 11 - 2 missing; xnli: 4
    assert "xquad/xquad.de.json" in msg and "xnli/test-ur.tsv" in msg
    assert "(15) " in msg and "(16) " not in msg


def test_eval_split_and_gold_path_fix_it(tmp_path):
    root = _download(tmp_path / "download", blank=True)
    gold = tmp_path / "xquad-checkout"
    for lang, data in xquad_originals().items():
        official_layout.write_squad(data, gold / f"xquad.{lang}.json")
    cfg = _config(root, ["xquad", "xnli"], gold_path=str(gold), eval_split={"xnli": "validation"})
    preflight.check(cfg)
    cfg["benchmark"]["eval_split"] = "auto"  # xnli: dev; xquad: test from gold_path
    preflight.check(cfg)


def test_nonexistent_path_and_cli(tmp_path):
    cfg = _config(tmp_path / "nope", ["xquad"])
    with pytest.raises(DataError, match=r"benchmark.path: '.*nope' is not a folder"):
        preflight.check(cfg)
    file = tmp_path / "c.yaml"
    file.write_text(yaml.safe_dump(cfg), "utf-8")
    run = subprocess.run([sys.executable, "-m", "xstilts", "check-data", "--config", str(file)],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 1 and "is not a folder" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_synthetic_missing_task_listed():
    cfg = copy.deepcopy(DEFAULT)
    cfg["benchmark"]["synthetic"] = {"sizes": {"xnli": {"test": 0}}}
    with pytest.raises(DataError, match=r"evaluate of 'xnli': mini-XTREME makes no 'test'"):
        preflight.check(cfg)


def test_snakemake_dry_run_fails_before_planning(tmp_path):
    cfg = _config(tmp_path / "missing", ["xnli"])
    file = tmp_path / "c.yaml"
    file.write_text(yaml.safe_dump(cfg), "utf-8")
    run = subprocess.run(["snakemake", "-n", "--configfile", str(file), "-d", str(tmp_path),
                          "-s", str(ROOT / "Snakefile")], capture_output=True, text=True,
                         check=False, cwd=tmp_path)
    assert run.returncode != 0
    assert "xstilts: data check failed" in run.stderr + run.stdout


def test_alignment_study_reads_are_checked(tmp_path):
    cfg = _config(_download(tmp_path, blank=False), ["xquad"])
    cfg["alignment"]["recipes"] = "all"
    with pytest.raises(DataError, match=r"alignment of 'tatoeba': no test file for language"):
        preflight.check(cfg)


def test_passed_check_is_cached_until_a_file_changes(tmp_path, monkeypatch):
    root = _download(tmp_path / "download", blank=False)
    cfg = _config(root, ["xquad"])
    cache = tmp_path / "results" / ".data_check.json"
    preflight.check(cfg, cache=cache)
    assert cache.is_file()
    calls = []
    monkeypatch.setattr(preflight, "_check", lambda config: calls.append(1))
    preflight.check(cfg, cache=cache)
    assert calls == []  # unchanged files: not read again
    official_layout.xquad(xquad_originals(), root, blank=True)  # the files change
    monkeypatch.undo()
    load.clear_cache()
    with pytest.raises(DataError, match="gold labels withheld"):
        preflight.check(cfg, cache=cache)
