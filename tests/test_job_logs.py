"""Job logs and scores.json carry provenance; evaluation and retrieval log progress per language;
no carriage returns (progress bars) or dict dumps in log files."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_robustness import checkpoint  # noqa: F401  (a tiny fine-tuned PAWS-X model)
from test_workflow_run import small_config

from xstilts.io import provenance

REPO = Path(__file__).resolve().parents[1]
HEADER = [r"INFO xstilts \S+, (commit [0-9a-f]{12} \((clean|dirty)\)|no git checkout), stage ",
          r"INFO host \S+ \(.+\), python \d+\.\d+\.\d+, pid \d+",
          r"INFO device (cpu|cuda:0 .+|- \(no torch\)), threads (\d+|-) \(torch (\d+|-)\), "
          r"slurm job ",
          r"INFO torch \S+, transformers \S+"]


def run_stage(stage: str, spec: dict, log: Path, threads: int = 1) -> str:
    """`python -m xstilts <stage>` as a rule runs it: stdout and stderr into a log file."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "XSTILTS_WORKER": "0"}
    argv = [sys.executable, "-m", "xstilts", stage, "--spec", json.dumps(spec),
            "--threads", str(threads)]
    with open(log, "w", encoding="utf-8") as handle:
        proc = subprocess.run(argv, stdout=handle, stderr=subprocess.STDOUT, env=env, timeout=600)
    text = log.read_text(encoding="utf-8")
    assert proc.returncode == 0, text
    return text


def check_log(text: str, stage: str) -> list[str]:
    lines = text.splitlines()
    for pattern, line in zip(HEADER, lines, strict=False):
        assert re.search(pattern, line), f"header line {line!r} !~ {pattern!r}\n{text}"
    assert f"stage {stage}" in lines[0]
    assert "\r" not in text, "a progress bar (carriage return) in the log"
    assert not [line for line in lines if len(line) > 400], "an over-long line in the log"
    assert not re.search(r": \{'", text), "a dict dumped into the log"
    return lines


def check_provenance(record: dict, threads: int) -> None:
    assert record["threads"] == threads and record["torch_threads"] == threads
    assert record["xstilts"] and record["host"] and record["device"] == provenance.device()
    assert record["libraries"]["torch"] and record["libraries"]["transformers"]
    assert "git_commit" in record


@pytest.fixture(scope="module")
def mini_bench(tmp_path_factory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("bench")
    settings = small_config()["benchmark"]["synthetic"]
    text = run_stage("data", {"out": str(root / "mini-xtreme"), "synthetic": settings},
                     root / "data.log")
    return root / "mini-xtreme", text


def test_data_log_has_header_and_content(mini_bench):
    _, text = mini_bench
    lines = check_log(text, "data")
    assert any("mini-XTREME written to" in line for line in lines[len(HEADER):])


def test_retrieval_logs_each_language_and_records_provenance(mini_bench, tmp_path):
    bench, _ = mini_bench
    out = tmp_path / "scores" / "scores.json"
    spec = {"model_path": str(REPO / "assets" / "models" / "tiny"),
            "benchmark": {"source": "synthetic", "path": str(bench)},
            "retrieval": {"layer": None, "pooling": "mean", "max_length": 64,
                          "sweep_layers": False},
            "ids": {"model": "tiny", "recipe": "none", "seed": 1},
            "targets": [{"target": "tatoeba", "out": str(out),
                         "predictions": str(tmp_path / "pred" / "tatoeba" / "x")}]}
    text = run_stage("retrieve", spec, tmp_path / "retrieve.log")
    lines = check_log(text, "retrieve")
    scores = json.loads(out.read_text(encoding="utf-8"))
    langs = list(scores["languages"])
    progress = [line for line in lines if re.search(r"tatoeba \[\d+/\d+\] ", line)]
    assert len(progress) == len(langs) >= 12
    logged = [re.search(r"tatoeba \[(\d+)/(\d+)\] (\w+): .*accuracy [\d.]+", line).groups()
              for line in progress]
    assert [(int(i), int(n)) for i, n, _ in logged] == [(i, len(langs))
                                                        for i in range(1, len(langs) + 1)]
    assert sorted(lang for *_, lang in logged) == sorted(langs)
    check_provenance(scores["provenance"], 1)


def test_evaluation_logs_each_language_and_records_provenance(checkpoint, tmp_path):  # noqa: F811
    root, bench, tests = checkpoint
    out = tmp_path / "scores.json"
    spec = {"target": "pawsx", "model_path": str(root / "model"),
            "ids": {"model": "tiny", "recipe": "none", "seed": 1},
            "benchmark": {"source": "synthetic", "path": str(bench)}, "out": str(out),
            "predictions": str(tmp_path / "pred" / "pawsx" / "x")}
    text = run_stage("evaluate", spec, tmp_path / "evaluate.log")
    lines = check_log(text, "evaluate")
    progress = [line for line in lines if " pawsx [" in line]
    assert [re.search(r"pawsx \[(\d+)/2\] (\w+): accuracy [\d.]+ \(16 examples", line).groups()
            for line in progress] == [("1", "en"), ("2", "xa")]
    scores = json.loads(out.read_text(encoding="utf-8"))
    check_provenance(scores["provenance"], 1)


def test_header_lines_name_every_fact():
    record = {"xstilts": "0.1.0", "git_commit": "0123456789abcdef", "git_dirty": True,
              "host": "node7", "platform": "Linux-x", "python": "3.11.9", "device": "cpu",
              "threads": 2, "torch_threads": 2, "slurm_job_id": "42",
              "libraries": {"torch": "2.13.0", "transformers": "5.24.0", "numpy": None}}
    lines = provenance.header_lines("finetune", record)
    assert lines[0] == "xstilts 0.1.0, commit 0123456789ab (dirty), stage finetune"
    assert "host node7 (Linux-x), python 3.11.9" in lines[1]
    assert lines[2] == "device cpu, threads 2 (torch 2), slurm job 42"
    assert lines[3] == "torch 2.13.0, transformers 5.24.0"


def test_table_tool_logs_start_with_the_header(tmp_path):
    """The local rules' tools (aggregate here) log the same header, without importing torch."""
    from test_aggregate import write_grid

    files = write_grid(tmp_path / "scores")
    log = tmp_path / "aggregate.log"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    with open(log, "w", encoding="utf-8") as handle:
        proc = subprocess.run([sys.executable, "-m", "xstilts.analysis.scores", "--out",
                               str(tmp_path / "tables"), *map(str, files)],
                              stdout=handle, stderr=subprocess.STDOUT, env=env, timeout=300)
    text = log.read_text(encoding="utf-8")
    assert proc.returncode == 0, text
    lines = check_log(text, "aggregate")
    assert "device - (no torch)" in lines[2]
    assert any(line.endswith("tidy.csv") for line in lines[len(HEADER):])
