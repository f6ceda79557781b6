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

Writes `<out>/languages.csv` (the metadata used), fairness_summary, family_scores,
family_improvement (.csv/.md/.tex) and family_improvement / family_heatmap (.png/.pdf).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from xstilts.io.atomic import atomic_dir

log = logging.getLogger("xstilts")


def _tasks(targets: list[str], extra: dict) -> dict[str, Any]:
    from xstilts.tasks.registry import RegistryError, get_task

    out = {}
    for target in targets:
        try:
            out[target] = get_task(target, extra)
        except RegistryError as err:
            log.warning("target '%s' is not in the registry (%s): no CIs", target, err)
    return out


def run(spec: dict) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("fontTools").setLevel(logging.WARNING)  # PDF font subsetting chatter
    from xstilts.analysis.figures import read_tidy
    from xstilts.analysis.scores import AVG, average_targets
    from xstilts.analysis.scoring import synthetic_metric_language
    from xstilts.analysis.tables import write_atomic
    from xstilts.data.languages import language_metadata
    from xstilts.data.schema import DataError
    from xstilts.studies.fairness import measure as F
    from xstilts.studies.fairness.figures import make_fairness_figures

    for key in ("scores", "out"):
        if not spec.get(key):
            raise DataError(f"fairness spec: missing key '{key}'")
    scores_path = Path(spec["scores"])
    if not scores_path.is_file():
        raise DataError(f"{scores_path}: scores table not found")
    tidy = read_tidy(scores_path)
    missing = [c for c in ("model", "intermediate", "seed", "target", "language", "metric",
                           "value") if c not in tidy.columns]
    if missing:
        raise DataError(f"{scores_path}: missing column(s) {missing}")
    n_boot = int(spec.get("bootstrap", 200) or 0)
    seed = int(spec.get("seed", 0))
    level = float(spec.get("level", F.LEVEL))
    baseline = str(spec.get("baseline", "none"))
    include_english = bool(spec.get("include_english", False))
    languages = spec.get("languages")

    scores = F.point_scores(tidy)
    langs = sorted({lang for ls in scores.values() for lang in ls.langs})
    meta = language_metadata(langs, languages)
    pred_root, label_root = spec.get("predictions_root"), spec.get("labels_root")
    if n_boot > 0 and pred_root and label_root:
        targets = sorted({k[2] for k in scores})
        F.attach_replicates(
            scores, tidy, lambda m, r, s: Path(pred_root) / m / r / f"seed{s}", Path(label_root),
            _tasks(targets, spec.get("tasks") or {}), n_boot, seed,
            synthetic_metric_language if languages else None)
    else:
        log.info("no bootstrap (bootstrap=%s, predictions_root=%s, labels_root=%s): no CIs",
                 n_boot, pred_root, label_root)
    scores = F.with_average(scores, average_targets(tidy))
    summary = F.summary_table(scores, meta, baseline, include_english, level)
    families = F.family_table(scores, meta, baseline, include_english, level)
    improvement = F.family_improvement_table(scores, meta, baseline, include_english, level)
    if improvement.empty:
        log.warning("no recipe to compare with baseline '%s': no family improvement", baseline)

    with atomic_dir(spec["out"]) as tmp:
        write_atomic(tmp / "languages.csv", meta.to_csv(index=False, lineterminator="\n"))
        F.write_fairness_tables(tmp, summary, families, improvement, level, baseline)
        make_fairness_figures(improvement, tmp, spec.get("figure_target") or AVG,
                              spec.get("figure_recipes"), baseline)
    log.info("fairness tables and figures in %s", spec["out"])
