"""The README and docs stay true: the commands and files they name exist, the job count is
`snakemake -n`'s, and every number comes from benchmarks/readme_numbers.py."""

from __future__ import annotations

import importlib.util
import re
import shlex
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from test_aggregate import write_grid
from workflow_utils import default_config, planned_jobs, studies_config, write_config

from xstilts.analysis.scores import collect, write_tables
from xstilts.cli import STAGES

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), REPO / "config" / "README.md"]
BLOCK = re.compile(r"<!-- BEGIN numbers:([\w-]+) [^>]*-->\n(.*?)<!-- END numbers:\1 -->", re.S)
TOP_DIRS = ("config/", "docs/", "assets/", "benchmarks/", "slurm/", "envs/", "workflow/",
            "src/", "tests/", ".ci/", ".test/")

spec = importlib.util.spec_from_file_location("readme_numbers",
                                              REPO / "benchmarks" / "readme_numbers.py")
readme_numbers = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = readme_numbers
spec.loader.exec_module(readme_numbers)


def rule_names() -> set[str]:
    text = "\n".join(p.read_text(encoding="utf-8") for p in
                     [REPO / "Snakefile", *(REPO / "workflow" / "rules").glob("*.smk")])
    return set(re.findall(r"^\s*rule (\w+):", text, re.M))


def commands(text: str) -> list[list[str]]:
    """Shell commands in fenced bash blocks and in inline code, split at && and |."""
    found = []
    snippets = re.findall(r"```bash\n(.*?)```", text, re.S) + re.findall(r"`([^`\n]+)`", text)
    for snippet in snippets:
        for line in snippet.splitlines():
            line = line.split("#", 1)[0]
            for part in re.split(r"&&|\|", line):
                try:
                    words = shlex.split(part)
                except ValueError:
                    continue
                words = [w for w in words if not re.search(r"[<{]|\.\.\.", w)]  # placeholders
                if words:
                    found.append(words)
    return found


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_named_commands_rules_and_files_exist(doc):
    text = doc.read_text(encoding="utf-8")
    rules = rule_names()
    for words in commands(text):
        cmd, args = words[0], words[1:]
        where = f"{doc.name}: {' '.join(words)}"
        if cmd == "snakemake":
            i = 0
            while i < len(args):
                arg = args[i]
                if arg == "--config":  # key=value overrides
                    i += 2
                    continue
                if arg in ("--configfile",):
                    j = i + 1
                    while j < len(args) and not args[j].startswith("-"):
                        assert (REPO / args[j]).is_file(), where
                        j += 1
                    i = j
                    continue
                if arg in ("--profile",):
                    assert (REPO / args[i + 1]).is_dir(), where
                elif arg in ("--forcerun", "-R"):
                    assert args[i + 1] in rules, where
                elif not arg.startswith("-") and i and args[i - 1] in ("--cores", "--report",
                                                                      "--profile", "--forcerun",
                                                                      "-R", "--sdm"):
                    pass
                elif not arg.startswith("-") and "/" not in arg and "." not in arg:
                    assert arg in rules, f"{where}: no rule '{arg}'"
                i += 1
        elif cmd == "xstilts" and args:
            assert args[0] in (*STAGES, "cost", "check-data"), f"{where}: no subcommand '{args[0]}'"
        elif cmd == "python" and args[:1] == ["-m"] and args[1].startswith("xstilts"):
            assert importlib.util.find_spec(args[1]) is not None, where
        elif cmd == "python" and args and args[0].endswith(".py"):
            assert (REPO / args[0]).is_file(), where


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_named_paths_and_links_exist(doc):
    text = doc.read_text(encoding="utf-8")
    for token in re.findall(r"`([^`\s]+)`", text):
        path = token.rstrip(".,:;")
        if path.startswith(TOP_DIRS) and not re.search(r"[<>{}*]|\.\.\.", path):
            assert (REPO / path).exists(), f"{doc.name}: `{token}` does not exist"
    for link in re.findall(r"\]\(([^)#\s]+)\)", text):
        if not link.startswith("http"):
            assert (doc.parent / link).exists(), f"{doc.name}: link {link} is broken"


def test_job_count_is_snakemake_dry_run(tmp_path):
    blocks = dict(BLOCK.findall((REPO / "README.md").read_text(encoding="utf-8")))
    counts = re.findall(r"\*\*(\d+) jobs\*\*", blocks["dag"])
    assert len(counts) == 2, blocks["dag"]
    for count, config in zip(counts, (default_config(), studies_config()), strict=True):
        write_config(tmp_path, config)
        assert int(count) == sum(planned_jobs(tmp_path).values())


def test_readme_states_the_grid_and_torch_facts():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    targets = default_config()["targets"]
    assert f"x {len(targets)} targets" in readme
    assert "--index-url https://download.pytorch.org/whl/cpu" in readme
    assert "export_models --forcerun export_model" in (REPO / "docs" / "models.md").read_text(
        encoding="utf-8")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    fence = re.search(r"Install and run the tests:\n\n```bash\n(.*?)\n```", readme, re.S)
    for part in fence.group(1).split(" && "):  # .ci/run runs the README's test command
        assert part.replace("pip install", "python -m pip install --quiet") in ci or part in ci


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_measured_numbers_are_only_in_generated_blocks(doc):
    """Job counts, run times and scores drift: outside the generated blocks, none is written."""
    text = BLOCK.sub("", doc.read_text(encoding="utf-8"))
    measured = re.findall(r"\b\d[\d,.]*\s*(?:jobs|job-seconds|minutes|min\b|points|seconds\b|"
                          r"hours)", text)
    assert not measured, f"{doc.name}: hand-written measurements {measured}"
    assert not re.search(r"\b\d+\.\d\s+vs\s+\d+\.\d", text), f"{doc.name}: a hand-written score"


def test_no_issue_numbers_in_config_or_report():
    for path in [REPO / "config.yaml", *(REPO / "workflow" / "report").glob("*.rst")]:
        assert not re.search(r"issues? #\d", path.read_text(encoding="utf-8")), path


@pytest.fixture(scope="module")
def small_results(tmp_path_factory) -> Path:
    """A results/ folder with the aggregate tables of a small grid (3 recipes, 2 seeds)."""
    root = tmp_path_factory.mktemp("run") / "results"
    tidy = collect(write_grid(root / "scores"))
    write_tables(tidy, root / "tables")
    return root


def test_generator_fills_every_block_from_a_run(small_results, tmp_path):
    out = tmp_path / "docs-out"
    assert readme_numbers.main(["--results", str(small_results), "--docs", str(out)]) == 0
    readme = (out / "README.md").read_text(encoding="utf-8")
    blocks = dict(BLOCK.findall(readme))
    assert set(blocks) == {"dag", "headline", "run"}
    xtreme = pd.read_csv(small_results / "tables" / "xtreme.csv")
    avg = xtreme.set_index("recipe").loc["none", "avg"]
    assert f"`none` averages {avg:.1f}" in blocks["headline"]
    assert "(2 seeds)" in blocks["headline"]
    assert "seeds 1, 2" in blocks["run"]
    results = (out / "docs" / "results.md").read_text(encoding="utf-8")
    assert (small_results / "tables" / "improvement.md").read_text(encoding="utf-8") in results
    assert "(this run has no tables/robustness/robustness.csv)" in results
    # idempotent: a second pass over the written documents changes nothing
    assert readme_numbers.main(["--results", str(small_results), "--repo", str(out),
                                "--check"]) == 0


def test_generator_check_fails_on_a_stale_document(small_results, tmp_path):
    (tmp_path / "README.md").write_text(
        "x\n<!-- BEGIN numbers:headline (benchmarks/readme_numbers.py; do not edit) -->\n"
        "- `tiny`: `none` averages 99.9\n<!-- END numbers:headline -->\n", encoding="utf-8")
    assert readme_numbers.main(["--results", str(small_results), "--repo", str(tmp_path),
                                "--check"]) == 1


def test_catalog_files_are_consistent():
    catalog = yaml.safe_load((REPO / ".snakemake-workflow-catalog.yml").read_text("utf-8"))
    assert catalog["usage"]["mandatory-flags"]["flags"]
    assert (REPO / "config" / "README.md").is_file()
    test_config = yaml.safe_load((REPO / ".test" / "config" / "config.yaml").read_text("utf-8"))
    assert set(test_config) <= set(default_config()) | {"tasks"}
    test_studies = yaml.safe_load((REPO / ".test" / "config" / "studies.yaml").read_text("utf-8"))
    assert set(test_studies) <= set(studies_config())
