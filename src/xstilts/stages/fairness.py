"""Stage: fairness across languages and families, from the tidy scores (+ predictions for CIs).

spec = {
  "scores": tidy.csv (xstilts.analysis.scores),
  "out": output folder (replaced atomically once everything is computed),
  "languages": mini-XTREME's languages.csv, or null for real language codes (URIEL/langcodes),
  "predictions_root": folder of `<model>/<intermediate>/seed<seed>/<target>/test-<lang>.<ext>`
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

from xstilts.io.errors import DataError
from xstilts.studies.fairness.measure import LEVEL
from xstilts.studies.fairness.report import make_report


def run(spec: dict) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("fontTools").setLevel(logging.WARNING)  # PDF font subsetting chatter
    for key in ("scores", "out"):
        if not spec.get(key):
            raise DataError(f"fairness spec: missing key '{key}'")
    make_report(spec["scores"], spec["out"], languages=spec.get("languages"),
                predictions_root=spec.get("predictions_root"),
                labels_root=spec.get("labels_root"),
                n_boot=int(spec.get("bootstrap", 200) or 0), seed=int(spec.get("seed", 0)),
                level=float(spec.get("level", LEVEL)), baseline=str(spec.get("baseline", "none")),
                include_english=bool(spec.get("include_english", False)),
                figure_target=spec.get("figure_target"),
                figure_recipes=spec.get("figure_recipes"), tasks=spec.get("tasks"))
