"""Run Snakemake on a copy of the config in a temporary working directory."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def write_config(workdir: Path, config: dict) -> Path:
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def validated(config: dict) -> dict:
    """A copy of `config` checked and completed with defaults as workflow/rules/common.smk does
    it: the studies' keys by their packages' schemas, the rest by the workflow's schema."""
    import copy

    from snakemake.utils import validate

    from xstilts.registry import config_schemas, studies

    config = copy.deepcopy(config)
    core = {k: v for k, v in config.items() if k not in studies()}
    validate(core, str(REPO / "workflow" / "schemas" / "config.schema.yaml"))
    config.update(core)
    for study, schema in config_schemas().items():
        validate(config.setdefault(study, {}), str(schema))
    return config


def default_config() -> dict:
    return yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))


def merged_config(*paths: Path) -> dict:
    """Config files merged in order as `--configfile a b` merges them (nested keys merge,
    lists are replaced): e.g. config.yaml + config/studies.yaml."""
    from snakemake.utils import update_config

    config: dict = {}
    for path in paths:
        update_config(config, yaml.safe_load(Path(path).read_text(encoding="utf-8")))
    return config


def studies_config() -> dict:
    """The default grid with the opt-in studies overlay (config/studies.yaml)."""
    return merged_config(REPO / "config.yaml", REPO / "config" / "studies.yaml")


def snakemake(
    workdir: Path, *args: str, check: bool = True, timeout: int = 300
) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(workdir / "config.yaml"),
        "--cores",
        "1",
        *args,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def planned_jobs(workdir: Path, *args: str) -> dict[str, int]:
    """Job counts per rule of a dry run ({} when there is nothing to be done)."""
    proc = snakemake(workdir, "--dry-run", "--quiet", "rules", *args)
    text = proc.stdout + proc.stderr
    counts: dict[str, int] = {}
    in_table = False
    for line in text.splitlines():
        if line.startswith("job ") and "count" in line:
            in_table = True
            continue
        if in_table:
            match = re.match(r"^(\w+)\s+(\d+)$", line.strip())
            if match and match.group(1) != "total":
                counts[match.group(1)] = int(match.group(2))
            elif line.strip().startswith("total"):
                break
    return counts


def fake_finished_run(workdir: Path) -> None:
    """Create every planned output (directories: extension-less paths), then let Snakemake
    touch them in DAG order, as if the grid had run."""
    proc = snakemake(workdir, "--summary")
    for line in proc.stdout.splitlines()[1:]:
        path = workdir / line.split("\t", 1)[0]
        if not line.strip():
            continue
        if path.suffix:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("{}\n", encoding="utf-8")
        else:
            path.mkdir(parents=True, exist_ok=True)
    snakemake(workdir, "--touch")
