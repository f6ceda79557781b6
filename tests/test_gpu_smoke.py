"""benchmarks/gpu_smoke.py on the CPU (tiny shape): the plumbing of the GPU smoke test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_gpu_smoke_runs_on_the_cpu_with_a_tiny_shape(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "gpu_smoke.py"),
                           "--device", "cpu", "--shape", "tiny", "--workdir", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, env=env)
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr[-3000:]
    assert "shape tiny" in out and "device cpu" in out
    for job in ("| intermediate |", "| finetune (+dev eval) |", "| evaluate |",
                "| retrieve (layer 3/4) |"):
        assert job in out, job
    assert "resumable " in out and "best " in out  # seconds per save were measured
    assert "FAIL" not in out and out.count("\nok ") >= 9
    assert (tmp_path / "finetune" / "model.safetensors").is_file()
