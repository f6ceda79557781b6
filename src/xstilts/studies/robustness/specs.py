"""The robustness study's stage specs: `robustness` (one checkpoint on the perturbed sets)
and `robustness-report`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from xstilts.stages.specs import StageSpec


@dataclass(frozen=True)
class RobustnessSpec(StageSpec):
    """The fine-tuned `model_path` on every perturbed set of its target (`perturbed`: the
    perturb stage's manifest.json; `clean_scores`: the evaluate stage's scores)."""

    stage: ClassVar[str] = "robustness"
    target: str
    benchmark: dict
    model_path: str
    perturbed: str
    clean_scores: str
    ids: dict
    out: str
    suite: dict = field(default_factory=dict)
    upstream: dict = field(default_factory=dict)
    tasks: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RobustnessReportSpec(StageSpec):
    """Robustness tables (`tables`) and figures (`figures`) from the robustness stage's JSON
    `files`; `recipes` (as `grid.config.recipes` returns them) give the adversarial/clean pairs
    (see `studies.robustness.report`)."""

    stage: ClassVar[str] = "robustness-report"
    files: list[str]
    tables: str
    figures: str | None = None
    recipes: dict = field(default_factory=dict)
    baseline: str = "none"
