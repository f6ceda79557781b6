"""Stage `robustness-report`: the robustness tables and figures from the robustness JSONs.

spec (`specs.RobustnessReportSpec`) = {
  "files": [robustness JSON files], "tables": tables folder, "figures": figures folder or null,
  "recipes": {recipe: {tasks, adversarial, ...}} (the adversarial/clean pairs), "baseline": "none"
}

Writes what `xstilts.studies.robustness.report.make_report` writes.
"""

from __future__ import annotations

import logging

from xstilts.stages.specs import DEFAULT_JOB, Job, RobustnessReportSpec
from xstilts.studies.robustness.report import make_report

log = logging.getLogger("xstilts")


def run(spec: RobustnessReportSpec | dict, job: Job = DEFAULT_JOB) -> None:
    spec = RobustnessReportSpec.parse(spec)
    for path in make_report(spec.files, spec.tables, spec.figures, spec.recipes, spec.baseline):
        log.info("wrote %s", path)
