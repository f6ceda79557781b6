"""Stage: export a base model the workflow pretrained as a shipped artifact (see artifact.py)."""

from __future__ import annotations

from xstilts.stages.common import log
from xstilts.stages.specs import DEFAULT_JOB, ExportSpec, Job


def run(spec: ExportSpec | dict, job: Job = DEFAULT_JOB) -> None:
    from xstilts.io.artifact import code_version, export_model

    spec = ExportSpec.parse(spec)
    provenance = {"model": spec.name, "entry": spec.model,
                  "hparams": spec.hparams, "benchmark": spec.benchmark,
                  "seed": spec.seed, "threads": spec.threads,
                  "code": code_version(spec.checkout, exclude=spec.out), "command": spec.command}
    export_model(spec.model_path, spec.out, provenance)
    log.info("exported %s to %s", spec.model_path, spec.out)
