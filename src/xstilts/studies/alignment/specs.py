"""The alignment study's stage specs: `alignment` (one encoder per layer) and
`alignment-report`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from xstilts.grid.config import ConfigError
from xstilts.stages.specs import CheckpointSpec, StageSpec


@dataclass(frozen=True, kw_only=True)
class AlignmentSpec(CheckpointSpec):
    """Per-layer alignment of the encoder `model_path` (see `studies.alignment.stage`)."""

    stage: ClassVar[str] = "alignment"
    out: str
    ids: dict = field(default_factory=dict)
    seed: int = 0
    limit: int = 200
    pairs: str = "tatoeba"
    languages: list[str] | None = None
    max_length: int = 128
    perturbations: list[dict] = field(default_factory=list)
    tokenizer: str | None = None
    device: str | None = None
    precision: str | None = None


@dataclass(frozen=True)
class AlignmentReportSpec(StageSpec):
    """Alignment tables (`tables`) and figures (`figures`) from the alignment stage's JSON
    `files`, with the alignment change against the transfer gain when `scores` (the tidy
    scores, xstilts.analysis.scores) is given; `layer`: "retrieval" | "mean" | a hidden_states
    index (see `studies.alignment.report`)."""

    stage: ClassVar[str] = "alignment-report"
    files: list[str]
    tables: str
    figures: str
    scores: str | None = None
    baseline: str = "none"
    metric: str = "acc_centered"
    layer: str | int = "retrieval"

    def check(self) -> None:
        if isinstance(self.layer, str) and self.layer not in ("retrieval", "mean"):
            raise ConfigError(f"{self.stage} spec: key 'layer' must be 'retrieval', 'mean' or "
                              f"a hidden_states index, got {self.layer!r}")
