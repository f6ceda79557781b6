"""Licence, citation, vendored conformance data and the system-test gate."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def test_licence_is_declared_everywhere():
    licence = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in licence and "Version 2.0" in licence
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "Apache-2.0"
    for name in project["license-files"]:
        assert (REPO / name).is_file(), name
    notice = (REPO / "NOTICE").read_text(encoding="utf-8")
    for model in sorted((REPO / "assets" / "models").iterdir()):
        assert f"assets/models/{model.name}" in notice, f"licence of {model} not stated"
    assert "tests/data/xtreme_mock" in notice


def test_citation_cites_software_and_paper():
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "software"
    assert cff["license"] == "Apache-2.0"
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert str(cff["version"]) == project["version"]
    paper = next(r for r in cff["references"] if r["type"] == "conference-paper")
    assert paper["title"].startswith("English Intermediate-Task Training Improves Zero-Shot")
    assert [a["family-names"] for a in paper["authors"]] == [
        "Phang", "Calixto", "Htut", "Pruksachatkun", "Liu", "Vania", "Kann", "Bowman"]
    assert paper["year"] == 2020
    assert any("2005.13013" in i["value"] for i in paper["identifiers"])


def test_mock_submission_is_vendored_with_its_licence(xtreme_mock):
    assert xtreme_mock.is_relative_to(REPO), "conformance data must ship with every clone"
    assert "Apache License" in (xtreme_mock / "LICENSE").read_text(encoding="utf-8")
    readme = (xtreme_mock / "README.md").read_text(encoding="utf-8")
    assert "google-research/xtreme" in readme and "Apache" in readme
    tasks = {p.name for p in (xtreme_mock / "predictions").iterdir()}
    assert tasks == {p.name for p in (xtreme_mock / "labels").iterdir()}
    assert len(tasks) == 9


def test_no_test_reads_the_team_only_shared_folder():
    for path in (REPO / "tests").glob("*.py"):
        if path.name == "test_ecosystem.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert "xtreme-mock" not in text and '"shared"' not in text, path


def test_system_tests_skip_unless_asked(tmp_path):
    """A plain pytest never installs packages or starts daemons: the SLURM test is skipped
    (before its fixture runs) unless XSTILTS_SYSTEM_TESTS=1."""
    env = {k: v for k, v in os.environ.items() if k != "XSTILTS_SYSTEM_TESTS"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
         "tests/test_slurm.py::test_profile_runs_the_workflow_through_sbatch"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "1 skipped" in out and "XSTILTS_SYSTEM_TESTS=1" in out, out
    assert "slurm: install" not in out


def test_ci_asks_for_system_tests_and_runs_the_readme_command():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "export XSTILTS_SYSTEM_TESTS=1" in ci
    assert ci.rstrip().splitlines()[-1] == "python -m pytest"
