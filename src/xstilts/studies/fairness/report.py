"""Fairness tables and figures from the tidy scores (+ predictions and labels for bootstrap
intervals over examples): the study's report, run by the `fairness-report` stage.

Writes `<out>/languages.csv` (the metadata used), fairness_summary, family_scores,
family_improvement (.csv/.md/.tex) and family_improvement / family_heatmap (.png/.pdf).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xstilts.analysis.scores import AVG, average_targets
from xstilts.analysis.scoring import synthetic_metric_language
from xstilts.analysis.tables import read_tidy
from xstilts.data.languages import language_metadata
from xstilts.io.atomic import atomic_dir, write_atomic
from xstilts.io.errors import DataError
from xstilts.studies.fairness import measure as F
from xstilts.studies.fairness import tables as T
from xstilts.studies.fairness.figures import make_fairness_figures
from xstilts.tasks.registry import RegistryError, get_task

log = logging.getLogger("xstilts")


def _tasks(targets: list[str], extra: dict) -> dict[str, Any]:
    out = {}
    for target in targets:
        try:
            out[target] = get_task(target, extra)
        except RegistryError as err:
            log.warning("target '%s' is not in the registry (%s): no CIs", target, err)
    return out


def make_report(scores_path: str | Path, out: str | Path, languages: str | Path | None = None,
                predictions_root: str | Path | None = None,
                labels_root: str | Path | None = None, n_boot: int = 200, seed: int = 0,
                level: float = F.LEVEL, baseline: str = "none", include_english: bool = False,
                figure_target: str = AVG, figure_recipes: Sequence[str] | None = None,
                tasks: dict | None = None) -> None:
    """Read the tidy scores at `scores_path`, write the tables and figures to `out` (replaced
    atomically once everything is computed); CIs need `n_boot` > 0 and both roots."""
    scores_path = Path(scores_path)
    if not scores_path.is_file():
        raise DataError(f"{scores_path}: scores table not found")
    tidy = read_tidy(scores_path)
    missing = [c for c in ("model", "recipe", "seed", "target", "language", "metric",
                           "value") if c not in tidy.columns]
    if missing:
        raise DataError(f"{scores_path}: missing column(s) {missing}")

    scores = F.point_scores(tidy)
    langs = sorted({lang for ls in scores.values() for lang in ls.langs})
    meta = language_metadata(langs, languages)
    pred_root, label_root = predictions_root, labels_root
    if n_boot > 0 and pred_root and label_root:
        targets = sorted({k[2] for k in scores})
        F.attach_replicates(
            scores, tidy, lambda m, r, s: Path(pred_root) / m / r / f"seed{s}", Path(label_root),
            _tasks(targets, tasks or {}), n_boot, seed,
            synthetic_metric_language if languages else None)
    else:
        log.info("no bootstrap (bootstrap=%s, predictions_root=%s, labels_root=%s): no CIs",
                 n_boot, pred_root, label_root)
    scores = F.with_average(scores, average_targets(tidy))
    summary = T.summary_table(scores, meta, baseline, include_english, level)
    families = T.family_table(scores, meta, baseline, include_english, level)
    improvement = T.family_improvement_table(scores, meta, baseline, include_english, level)
    if improvement.empty:
        log.warning("no recipe to compare with baseline '%s': no family improvement", baseline)

    with atomic_dir(out) as tmp:
        write_atomic(tmp / "languages.csv", meta.to_csv(index=False, lineterminator="\n"))
        T.write_fairness_tables(tmp, summary, families, improvement, level, baseline)
        make_fairness_figures(improvement, tmp, figure_target or AVG, figure_recipes, baseline)
    log.info("fairness tables and figures in %s", out)
