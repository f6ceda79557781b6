"""The fairness study's stage spec: `fairness-report`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from xstilts.grid.config import ConfigError
from xstilts.stages.specs import StageSpec


@dataclass(frozen=True)
class FairnessReportSpec(StageSpec):
    """Fairness tables and figures from the tidy scores (see `studies.fairness.report`)."""

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
