"""Stage `fairness-report`: fairness across languages and families, from the tidy scores
(+ predictions for CIs).

spec (`specs.FairnessReportSpec`) = {
  "scores": tidy.csv (xstilts.analysis.scores),
  "out": output folder (replaced atomically once everything is computed),
  "languages": mini-XTREME's languages.csv, or null for real language codes (URIEL/langcodes),
  "predictions_root": folder of `<model>/<recipe>/seed<seed>/<target>/test-<lang>.<ext>`
                      (results/predictions), optional: without it there are no CIs,
  "labels_root": folder of `<target>/test-<lang>.<ext>` (results/labels), with predictions_root,
  "bootstrap": replicates B (default 200; 0 = no CIs), "seed": 0, "level": 0.95,
  "baseline": "none", "include_english": false, "figure_target": "avg",
  "figure_recipes": [recipes] or null (all), "tasks": registry extras (optional)
}

Writes what `xstilts.studies.fairness.report.make_report` writes.
"""

from __future__ import annotations

import logging

from xstilts.stages.specs import DEFAULT_JOB, FairnessReportSpec, Job
from xstilts.studies.fairness.report import make_report


def run(spec: FairnessReportSpec | dict, job: Job = DEFAULT_JOB) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("fontTools").setLevel(logging.WARNING)  # PDF font subsetting chatter
    spec = FairnessReportSpec.parse(spec)
    make_report(spec.scores, spec.out, languages=spec.languages,
                predictions_root=spec.predictions_root, labels_root=spec.labels_root,
                n_boot=spec.bootstrap, seed=spec.seed, level=spec.level, baseline=spec.baseline,
                include_english=spec.include_english, figure_target=spec.figure_target,
                figure_recipes=spec.figure_recipes, tasks=spec.tasks)
