"""A stage of `xstilts <stage>`: its typed spec class and the module whose `run(spec, job)` runs it.

`CORE` holds the pipeline's stages (specs in `stages.specs`, modules in `stages/`). The research
studies declare theirs in their package's `STAGES`; `xstilts.registry.stages()` finds them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from xstilts.stages.specs import SPECS, Job, StageSpec

TRAINING = ("pretrain", "intermediate", "finetune")


@dataclass(frozen=True)
class Stage:
    """`xstilts <spec.stage> --spec JSON` parses the JSON with `spec` and calls `module.run`;
    a training stage also takes `--runtime-min`."""

    spec: type[StageSpec]
    module: str
    training: bool = False

    @property
    def name(self) -> str:
        return self.spec.stage

    def run(self, spec: StageSpec, job: Job) -> None:
        importlib.import_module(self.module).run(spec, job)


CORE: tuple[Stage, ...] = tuple(
    Stage(cls, f"xstilts.stages.{name}", training=name in TRAINING) for name, cls in SPECS.items()
)
