"""The rule files: functions only in common.smk, `snakemake --lint` clean, snakefmt-formatted."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from workflow_utils import REPO

RULES = REPO / "workflow" / "rules"


def test_functions_live_in_common_smk():
    for path in RULES.rglob("*.smk"):
        if path.name != "common.smk":
            assert not re.search(r"^\s*def \w+", path.read_text("utf-8"), re.M), path.name


def test_snakemake_lint_is_clean(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--lint", "--snakefile", str(REPO / "Snakefile"),
         "--directory", str(tmp_path), "--configfile", str(REPO / "config.yaml")],
        capture_output=True, text=True, timeout=300, env={**os.environ, "XSTILTS_DATA_CHECK": "0"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Congratulations, your workflow is in a good condition!" in proc.stdout + proc.stderr


def test_rule_files_are_snakefmt_formatted():  # snakefmt: in the test extras
    proc = subprocess.run(["snakefmt", "--check", "Snakefile", "workflow/rules"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
