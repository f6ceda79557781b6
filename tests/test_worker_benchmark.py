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

from xstilts.worker import RECORDS, merge_benchmarks, read_records

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
        spec = {"model_name": "tiny", "model": {"init": "path"}, "hparams": {}, "benchmark": {},
                "seed": 1, "threads": 1, "checkout": str(REPO), "command": "test",
                "base": str(REPO / "assets" / "models" / "tiny"),
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
