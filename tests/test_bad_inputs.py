"""Bad inputs end to end through the CLI: one `xstilts <stage>: error: ...` line naming the file
and the row/column, exit status 1 (2 for an unreadable --spec), no traceback.

Data cases corrupt one file of a tiny generated mini-XTREME and run the stage that reads it
(`labels` reads test splits, `finetune` English train/dev, `intermediate` hub-schema files); the
data are read before any model is loaded, so no encoder is needed. Config cases add what
tests/test_config.py does not cover.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from workflow_utils import REPO, default_config, validated

from xstilts import cli
from xstilts.data import load
from xstilts.grid import config as cfg

SCHEMA = str(REPO / "workflow" / "schemas" / "config.schema.yaml")
SIZES = {"train": 16, "validation": 8, "test": 8}
TARGETS = ("xnli", "pawsx", "udpos", "panx", "tydiqa")


def tiny_sizes(n: int = 4) -> dict:
    """mini-XTREME sizes of `n` examples for every task (tests then raise the ones they use)."""
    from xstilts.data.synthetic import DEFAULT_CONFIG

    return {task: {split: ({k: n for k in v} if isinstance(v, dict) else n)
                   for split, v in sizes.items()}
            for task, sizes in DEFAULT_CONFIG["sizes"].items()}


@cache
def _benchmark(root: Path) -> Path:
    from xstilts.data.synthetic import generate

    sizes = tiny_sizes()
    sizes.update({t: dict(SIZES) for t in TARGETS})
    sizes.update({t: {"validation": 8, "test": 8} for t in ("xquad", "mlqa")})
    sizes.update({t: {"train": 16, "validation": 8} for t in ("mnli", "squad_v1")})
    generate(root, {"seed": 3, "languages": ["en", "dano"], "sizes": sizes,
                    "translated_train": 4, "parallel": 4,
                    "mlm": {"high": 20, "mid": 10, "low": 5, "validation": 2}})
    return root


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return _benchmark(tmp_path_factory.mktemp("bench") / "mini")


@pytest.fixture()
def bench(pristine, tmp_path) -> Path:
    root = tmp_path / "mini"
    shutil.copytree(pristine, root)
    load.clear_cache()
    return root


@pytest.fixture(autouse=True)
def _keep_torch_threads():
    """Stages set torch's thread count for their process; restore it for the other tests."""
    import torch

    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def _spec(stage: str, root: Path, tmp: Path, target: str = "xnli") -> dict:
    bench = {"source": "synthetic", "path": str(root)}
    if stage == "labels":
        return {"target": target, "benchmark": bench, "tasks": {},
                "out": str(tmp / "labels" / target)}
    if stage == "finetune":
        return {"target": target, "benchmark": bench, "tasks": {}, "seed": 1,
                "model_path": str(tmp / "no-encoder-needed"), "hparams": {"max_steps": 1},
                "out": str(tmp / "ft"), "scratch": str(tmp / "scratch")}
    if stage == "intermediate":
        return {"recipe": {"tasks": [target]}, "benchmark": bench, "tasks": {}, "targets": [],
                "model_path": str(tmp / "no-encoder-needed"), "hparams": {"max_steps": 1},
                "seed": 1, "out": str(tmp / "im"), "scratch": str(tmp / "scratch")}
    raise AssertionError(stage)


def _rewrite_line(path: Path, index: int, new: bytes) -> None:
    lines = path.read_bytes().split(b"\n")
    lines[index] = new
    path.write_bytes(b"\n".join(lines))


def _corrupt(root: Path, case: str) -> tuple[str, str]:
    """Corrupt one file of `root`; return (stage, target) whose run reads it."""
    x = root / "xtreme"
    if case == "missing-column-tsv":
        _rewrite_line(x / "xnli" / "test-dano.tsv", 2, b"only one column")
        return "labels", "xnli"
    if case == "missing-column-jsonl":
        path = root / "hub" / "mnli" / "train.jsonl"
        row = json.loads(path.read_bytes().split(b"\n")[3])
        del row["premise"]
        _rewrite_line(path, 3, json.dumps(row).encode())
        return "intermediate", "mnli"
    if case == "label-outside-set":
        path = x / "xnli" / "train-en.tsv"
        cols = path.read_bytes().split(b"\n")[4].split(b"\t")
        _rewrite_line(path, 4, b"\t".join([*cols[:-1], b"maybe"]))
        return "finetune", "xnli"
    if case == "tag-outside-set":
        path = x / "panx" / "test-dano.tsv"
        lines = path.read_bytes().split(b"\n")
        _rewrite_line(path, 0, lines[0].split(b"\t")[0] + b"\tB-FOO")
        return "labels", "panx"
    if case == "empty-split":
        (x / "pawsx" / "test-dano.tsv").write_bytes(b"")
        return "labels", "pawsx"
    if case == "bad-utf8":
        path = x / "panx" / "train-en.tsv"
        _rewrite_line(path, 1, b"Berl\xffin\tB-LOC")
        return "finetune", "panx"
    if case == "truncated-json":
        path = x / "mlqa" / "MLQA_V1" / "test" / "test-context-dano-question-dano.json"
        path.write_bytes(path.read_bytes()[:-40])
        return "labels", "mlqa"
    if case == "truncated-jsonl":
        path = root / "hub" / "mnli" / "validation.jsonl"
        line = path.read_bytes().split(b"\n")[1]
        _rewrite_line(path, 1, line[: len(line) // 2])
        return "intermediate", "mnli"
    if case == "truncated-parquet":
        import datasets

        jsonl = root / "hub" / "mnli" / "train.jsonl"
        parquet = jsonl.with_suffix(".parquet")
        datasets.Dataset.from_json(str(jsonl)).to_parquet(str(parquet))
        jsonl.unlink()  # a hub download: parquet instead of JSONL
        parquet.write_bytes(parquet.read_bytes()[: parquet.stat().st_size // 2])
        return "intermediate", "mnli"
    if case == "missing-file":
        (x / "xnli" / "dev-en.tsv").unlink()
        return "finetune", "xnli"
    if case == "stray-quote-tsv":
        path = x / "xnli" / "test-dano.tsv"
        _rewrite_line(path, 2, b'"' + path.read_bytes().split(b"\n")[2])
        return "labels", "xnli"
    if case == "huge-field-tsv":
        path = x / "pawsx" / "test-dano.tsv"
        _rewrite_line(path, 1, b"x" * 10_000_000 + b"\ty\t1")
        return "labels", "pawsx"
    if case == "folder-for-file":
        path = x / "xnli" / "test-dano.tsv"
        path.unlink()
        path.mkdir()
        return "labels", "xnli"
    if case == "answer-start-not-int":
        path = x / "tydiqa" / "tydiqa-goldp-v1.1-train" / "tydiqa.goldp.en.train.json"
        data = json.loads(path.read_bytes())
        data["data"][0]["paragraphs"][0]["qas"][0]["answers"][0]["answer_start"] = "abc"
        path.write_text(json.dumps(data))
        return "finetune", "tydiqa"
    if case == "null-text-jsonl":
        path = root / "hub" / "mnli" / "train.jsonl"
        row = json.loads(path.read_bytes().split(b"\n")[3])
        row["premise"] = None
        _rewrite_line(path, 3, json.dumps(row).encode())
        return "intermediate", "mnli"
    if case == "space-for-tab-conll":
        path = x / "udpos" / "test-dano.tsv"
        _rewrite_line(path, 1, path.read_bytes().split(b"\n")[1].replace(b"\t", b" "))
        return "labels", "udpos"
    raise AssertionError(case)


# (case, patterns the one error line must match)
DATA_CASES = [
    ("missing-column-tsv", [r"xnli/test-dano\.tsv", r"row 2\b", r"expected 2 or 3"]),
    ("missing-column-jsonl", [r"mnli/train\.jsonl", r"row 3\b", r"missing column 'premise'"]),
    ("label-outside-set", [r"xnli/train-en\.tsv", r"row 4\b", r"'maybe' not in the label set"]),
    ("tag-outside-set", [r"panx/test-dano\.tsv", r"row 0\b", r"'B-FOO' not in the label set"]),
    ("empty-split", [r"pawsx/test-dano\.tsv|task 'pawsx' split 'test' lang 'dano'",
                     r"empty split"]),
    ("bad-utf8", [r"panx/train-en\.tsv", r"line 2\b", r"invalid UTF-8"]),
    ("truncated-json", [r"test-context-dano-question-dano\.json", r"line \d+", r"invalid JSON"]),
    ("truncated-jsonl", [r"mnli/validation\.jsonl", r"line 2\b", r"invalid JSON"]),
    ("truncated-parquet", [r"mnli/train\.parquet", r"invalid or truncated parquet"]),
    ("missing-file", [r"xnli/dev-en\.tsv", r"(?i)no such file|not found|missing"]),
    ("stray-quote-tsv", [r"xnli/test-dano\.tsv", r"lines? 3\b", r"stray '\"'"]),
    ("huge-field-tsv", [r"pawsx/test-dano\.tsv", r"line 2\b", r"longer than \d+ characters"]),
    ("folder-for-file", [r"xnli/test-dano\.tsv", r"is a directory, not a file"]),
    ("answer-start-not-int", [r"tydiqa\.goldp\.en\.train\.json", r"qas\[0\]\.answers\[0\]",
                              r'"abc" is not a non-negative integer']),
    ("null-text-jsonl", [r"mnli/train\.jsonl", r"row 3\b", r"column 'premise' is null"]),
    ("space-for-tab-conll", [r"udpos/test-dano\.tsv", r"line 2\b", r"no tab between token"]),
]


def _run_cli(capsys, stage: str, spec: dict) -> tuple[int, str]:
    status = cli.main([stage, "--spec", json.dumps(spec)], allow_worker=False)
    return status, capsys.readouterr().err


def _error_line(stage: str, err: str) -> str:
    assert "Traceback" not in err, err
    lines = [x for x in err.splitlines() if x.startswith(f"xstilts {stage}: error: ")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(("case", "patterns"), DATA_CASES, ids=[c for c, _ in DATA_CASES])
def test_bad_data_fails_with_one_clear_line(bench, tmp_path, capsys, case, patterns):
    stage, target = _corrupt(bench, case)
    status, err = _run_cli(capsys, stage, _spec(stage, bench, tmp_path, target))
    line = _error_line(stage, err)
    print(line)  # shown with -s / in the report: what the user sees
    assert status == 1, err
    for pattern in patterns:
        assert re.search(pattern, line), (pattern, line)


def test_the_pristine_benchmark_passes(bench, tmp_path, capsys):
    """The corruptions above are what fails: the same stage on the intact copy succeeds."""
    status, err = _run_cli(capsys, "labels", _spec("labels", bench, tmp_path, "mlqa"))
    assert status == 0, err
    assert sorted(p.name for p in (tmp_path / "labels" / "mlqa").iterdir()) == [
        "test-dano.json", "test-en.json"]


def _subprocess_cli(*argv: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO / "src"), "XSTILTS_WORKER": "0"}
    return subprocess.run([sys.executable, "-m", "xstilts", *argv], capture_output=True,
                          text=True, timeout=120, env=env)


@pytest.mark.parametrize("text", ['{"target": "xnli",', "[1, 2", "not json"])
def test_invalid_spec_json_exits_2(text):
    proc = _subprocess_cli("finetune", "--spec", text)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert re.fullmatch(r"xstilts finetune: error: --spec is not valid JSON: .+ \(char \d+\)\n",
                        proc.stderr), proc.stderr


@pytest.mark.parametrize(("argv", "message"), [
    (["--spec", "[1, 2]"], "--spec must be a JSON object, got list"),
    (["--spec", '"a string"'], "--spec must be a JSON object, got str"),
    (["--spec", "@/nonexistent/spec.json"], "cannot read --spec file /nonexistent/spec.json"),
])
def test_spec_that_is_not_a_json_object_exits_2(capsys, argv, message):
    status = cli.main(["evaluate", *argv], allow_worker=False)
    err = capsys.readouterr().err
    assert status == 2
    assert _error_line("evaluate", err).startswith(f"xstilts evaluate: error: {message}")


def test_bad_data_through_a_real_process(pristine, tmp_path):
    """The whole stderr of a real `python -m xstilts` process: log lines, then the one error."""
    root = tmp_path / "mini"
    shutil.copytree(pristine, root)
    _corrupt(root, "label-outside-set")
    proc = _subprocess_cli("finetune", "--spec", json.dumps(_spec("finetune", root, tmp_path)))
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("xstilts finetune: error: ") and "train-en.tsv" in last, proc.stderr
    assert "row 4: label 'maybe' not in the label set" in last


# ---------------------------------------------------------------- config (beyond test_config.py)
def _validated(config: dict) -> None:
    config = validated(config)
    cfg.check(config)


CONFIG_CASES = [
    ("seeds-not-integers", lambda c: c.update(seeds=["one"]), "instance['seeds'][0]"),
    ("targets-a-string", lambda c: c.update(targets="xnli"), "instance['targets']"),
    ("negative-hidden", lambda c: c["models"]["tiny"]["size"].update(hidden=-4),
     "instance['models']['tiny']['size']['hidden']"),
    ("misspelt-hparam", lambda c: c["hparams"]["targets"].update(xnli={"max_stepz": 2}),
     "'max_stepz' was unexpected"),
]


@pytest.mark.parametrize(("mutate", "named"), [c[1:] for c in CONFIG_CASES],
                         ids=[c[0] for c in CONFIG_CASES])
def test_bad_config_types_are_rejected_naming_the_key(mutate, named):
    config = default_config()
    mutate(config)
    with pytest.raises(Exception) as info:
        _validated(config)
    assert named in str(info.value), str(info.value)


@pytest.mark.parametrize("langs", [["xx-bad!"], ["en", "$(touch pwned)"], ["../../etc"]])
def test_unknown_language_in_task_override_is_rejected(langs):
    config = default_config()
    config["tasks"] = {"xnli": {"languages": langs}}
    with pytest.raises(cfg.ConfigError, match=r"tasks\.xnli\.languages"):
        _validated(config)


def test_bad_synthetic_settings_fail_with_one_line(tmp_path, capsys):
    """A config slice the schema lets through (benchmark.synthetic is free-form) still ends
    the data job with one clear line, not a traceback."""
    spec = {"out": str(tmp_path / "mini"), "synthetic": {"seed": "13; rm -rf ~"}}
    status, err = _run_cli(capsys, "data", spec)
    line = _error_line("data", err)
    assert status == 1
    assert "synthetic.seed" in line
    spec["synthetic"] = {"seed": 1, "colour": "red"}
    status, err = _run_cli(capsys, "data", spec)
    assert status == 1 and "unknown key 'colour'" in _error_line("data", err)
    spec["synthetic"] = {"languages": ["en", "klingon"]}
    status, err = _run_cli(capsys, "data", spec)
    assert status == 1 and "['klingon']" in _error_line("data", err)
    spec["synthetic"] = {"languages": ["dano"]}
    status, err = _run_cli(capsys, "data", spec)
    assert status == 1 and "'en' must be included" in _error_line("data", err)
    assert not (tmp_path / "mini").exists()


def test_every_hparam_the_schema_accepts_is_known_to_the_engine():
    import yaml

    from xstilts.engine.training import HPARAM_DEFAULTS

    schema = yaml.safe_load(Path(SCHEMA).read_text(encoding="utf-8"))
    assert sorted(set(schema["definitions"]["hparams"]["properties"]) - set(HPARAM_DEFAULTS)) \
        == []


def test_unwritable_output_fails_with_one_line(bench, tmp_path, capsys):
    """A file where the output's folder should be (or a full disk): one line naming the path."""
    blocker = tmp_path / "labels"
    blocker.write_text("a file, not a folder")
    status, err = _run_cli(capsys, "labels", _spec("labels", bench, tmp_path, "xnli"))
    line = _error_line("labels", err)
    print(line)
    assert status == 1 and str(blocker) in line
