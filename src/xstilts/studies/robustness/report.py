"""Robustness tables and figures from the robustness stage's JSON files (the study's report,
run by the `robustness-report` stage)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from xstilts.io.errors import DataError
from xstilts.stages.specs import DEFAULT_JOB, Job
from xstilts.studies.robustness.figures import make_robustness_figures
from xstilts.studies.robustness.specs import RobustnessReportSpec
from xstilts.studies.robustness.tables import adversarial_pairs, collect, write_robustness_tables

log = logging.getLogger("xstilts")


def make_report(files: Sequence[str | Path], tables: str | Path,
                figures: str | Path | None = None, recipes: Mapping[str, dict] | None = None,
                baseline: str = "none") -> list[Path]:
    """Write the tables to `tables` and, if given, the figures to `figures`; `recipes`
    ({name: {tasks, adversarial, ...}}) give the adversarial/clean pairs. Returns the paths."""
    recipes = dict(recipes or {})
    if not all(isinstance(r, Mapping) for r in recipes.values()):
        raise DataError("recipes must be a mapping {recipe: {tasks, ...}}")
    pairs = adversarial_pairs(recipes) if recipes else {}
    frame = collect([Path(f) for f in files])
    written = write_robustness_tables(frame, Path(tables), pairs, baseline)
    if figures is not None:
        Path(figures).mkdir(parents=True, exist_ok=True)
        written += make_robustness_figures(frame, Path(figures), baseline=baseline)
    return written


def run(spec: RobustnessReportSpec | dict, job: Job = DEFAULT_JOB) -> None:
    """Stage `robustness-report` (spec: `specs.RobustnessReportSpec`): `make_report`."""
    spec = RobustnessReportSpec.parse(spec)
    for path in make_report(spec.files, spec.tables, spec.figures, spec.recipes, spec.baseline):
        log.info("wrote %s", path)
