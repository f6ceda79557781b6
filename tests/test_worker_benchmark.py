"""The warm worker records each forked job's own resources into the job's benchmark file
(Snakemake's `benchmark:` sees only the thin client)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from xstilts.worker import RECORDS, keep_records, merge_benchmarks, read_records

REPO = Path(__file__).resolve().parents[1]
SRC = str(REPO / "src")
HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time"


def test_the_forked_jobs_wall_cpu_and_rss_reach_its_benchmark_file(tmp_path):
    sock = tmp_path / "w.sock"
    env = {**os.environ, "PYTHONPATH": SRC}
    env.pop("SLURM_JOB_ID", None)
    worker = subprocess.Popen([sys.executable, "-m", "xstilts.worker", str(sock), "--cold"],
                              env=env)
    try:
        for _ in range(200):
            if sock.exists():
                break
            time.sleep(0.05)
        logs = tmp_path / "results" / "logs" / "export"
        logs.mkdir(parents=True)
        # a stage job (it imports torch for its log header) that is quick: export a model
        spec = {"name": "tiny", "model": {"init": "path"}, "hparams": {},
                "benchmark": {"source": "synthetic"}, "seed": 1, "threads": 1,
                "checkout": str(REPO), "command": "test",
                "model_path": str(REPO / "assets" / "models" / "tiny"),
                "out": str(tmp_path / "exported")}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(logs / "tiny.log", "w") as log:  # the rule's `> {log} 2>&1`
            status = subprocess.run(
                [sys.executable, "-m", "xstilts", "export", "--spec", json.dumps(spec)],
                cwd=tmp_path, stdout=log, stderr=log,
                env={**env, "XSTILTS_WORKER": str(sock)}, timeout=120).returncode
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        assert status == 0, (logs / "tiny.log").read_text()
        assert (tmp_path / "exported" / "provenance.json").is_file()
        for _ in range(100):
            records = read_records(tmp_path / RECORDS)
            if records:
                break
            time.sleep(0.05)
    finally:
        worker.terminate()
        worker.wait(timeout=10)
    (rec,) = records
    assert rec["log"] == str(logs / "tiny.log") and rec["cwd"] == str(tmp_path)
    assert rec["stage"] == "export"
    client_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    # the job imported torch and computed in the fork; the client only waited
    assert rec["cpu_s"] > 0.5 and rec["cpu_s"] > 2 * client_cpu
    assert rec["max_rss_mb"] > 100 and rec["wall_s"] >= rec["cpu_s"] * 0.5

    bench = tmp_path / "results" / "benchmarks" / "export" / "tiny.tsv"
    bench.parent.mkdir(parents=True)
    bench.write_text(f"{HEADER}\n{client_cpu + 1:.4f}\t0:00:01\t15.10\t20.00\t9.00\t9.50\t0.00"
                     "\t0.00\t2.00\t0.05\n")  # what Snakemake measured of the client
    mapping = {"results/logs/export/tiny.log": "results/benchmarks/export/tiny.tsv"}
    assert merge_benchmarks(tmp_path / RECORDS, mapping.get) == [str(bench)]
    header, row = bench.read_text().splitlines()
    assert header == HEADER
    values = dict(zip(header.split("\t"), row.split("\t"), strict=True))
    assert float(values["cpu_time"]) == round(rec["cpu_s"], 2)
    assert float(values["s"]) == rec["wall_s"]
    assert float(values["max_rss"]) == rec["max_rss_mb"] and values["max_vms"] == "NA"
    assert float(values["mean_load"]) == round(100 * rec["cpu_s"] / rec["wall_s"], 2)


def test_jobs_without_a_benchmark_file_are_left_alone(tmp_path):
    (tmp_path / RECORDS).write_text(
        '{"log": "/x/results/logs/figures.log", "cwd": "/x", "stage": "figures", "wall_s": 1,'
        ' "cpu_s": 1, "max_rss_mb": 1, "io_in_mb": 0, "io_out_mb": 0}\n')
    assert merge_benchmarks(tmp_path / RECORDS, lambda log: None) == []
    assert merge_benchmarks(tmp_path / "absent.jsonl", lambda log: "b.tsv") == []


def test_every_record_is_kept_for_the_grid_benchmark(tmp_path):
    """Jobs without a benchmark file (data, labels) too: records append to jobs.jsonl."""
    line = ('{"log": "/x/results/logs/data/generate_benchmark.log", "cwd": "/x", "stage": "data",'
            ' "wall_s": 2, "cpu_s": 1.5, "max_rss_mb": 1, "io_in_mb": 0, "io_out_mb": 0}\n')
    (tmp_path / RECORDS).write_text(line)
    dest = tmp_path / "results" / "benchmarks" / "jobs.jsonl"
    assert keep_records(tmp_path / RECORDS, dest) == 1
    assert keep_records(tmp_path / RECORDS, dest) == 1  # a second run of the workflow appends
    assert [r["cpu_s"] for r in read_records(dest)] == [1.5, 1.5]
    assert keep_records(tmp_path / "absent.jsonl", dest) == 0


def test_a_job_run_before_the_worker_is_up_is_recorded_too(tmp_path):
    """The workflow sets XSTILTS_WORKER before the worker has imported torch; a job that starts
    then runs in-process, and its own CPU time is recorded like a forked job's."""
    env = {**os.environ, "PYTHONPATH": SRC, "XSTILTS_WORKER": str(tmp_path / "worker.sock")}
    env.pop("SLURM_JOB_ID", None)
    log = tmp_path / "labels.log"
    with open(log, "w") as out:
        status = subprocess.run([sys.executable, "-m", "xstilts", "labels", "--spec", "{"],
                                env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path,
                                timeout=120).returncode
    assert status == 2 and "--spec is not valid JSON" in log.read_text()
    (rec,) = read_records(tmp_path / RECORDS)
    assert rec["stage"] == "labels" and rec["log"] == str(log) and rec["cwd"] == str(tmp_path)
    assert rec["cpu_s"] > 0 and rec["wall_s"] > 0 and rec["max_rss_mb"] > 10


def test_worker_off_records_nothing(tmp_path):
    """XSTILTS_WORKER=0 (the worker switched off) is no socket: no records file anywhere."""
    env = {**os.environ, "PYTHONPATH": SRC, "XSTILTS_WORKER": "0"}
    env.pop("SLURM_JOB_ID", None)
    subprocess.run([sys.executable, "-m", "xstilts", "labels", "--spec", "{"], env=env,
                   capture_output=True, cwd=tmp_path, timeout=120)
    assert not list(tmp_path.rglob(RECORDS))
