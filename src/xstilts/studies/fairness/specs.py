"""The fairness study's stage spec: `fairness-report`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from xstilts.grid.config import ConfigError
from xstilts.stages.specs import StageSpec


@dataclass(frozen=True)
class FairnessReportSpec(StageSpec):
    """Fairness tables and figures across languages and families (`studies.fairness.report`).

    `scores`: tidy.csv (xstilts.analysis.scores); `out`: the output folder (replaced atomically
    once everything is computed); `languages`: mini-XTREME's languages.csv, or None for real
    language codes (URIEL/langcodes); `predictions_root`: the folder of
    `<model>/<recipe>/seed<seed>/<target>/test-<lang>.<ext>` (results/predictions), without
    which there are no CIs; `labels_root`: the folder of `<target>/test-<lang>.<ext>`
    (results/labels), with `predictions_root`; `bootstrap`: replicates B (0 = no CIs);
    `figure_target`: "avg" by default; `figure_recipes`: None = all; `tasks`: registry extras.
    """

    stage: ClassVar[str] = "fairness-report"
    scores: str
    out: str
    languages: str | None = None
    predictions_root: str | None = None
    labels_root: str | None = None
    bootstrap: int = 200
    seed: int = 0
    level: float = 0.95
    baseline: str = "none"
    include_english: bool = False
    figure_target: str | None = None
    figure_recipes: list[str] | None = None
    tasks: dict = field(default_factory=dict)

    def check(self) -> None:
        for key in ("scores", "out"):
            if not getattr(self, key):
                raise ConfigError(f"{self.stage} spec: key '{key}' is empty")
