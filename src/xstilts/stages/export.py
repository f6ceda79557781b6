"""Stage: export a base model the workflow pretrained as a shipped artifact (see artifact.py)."""

from __future__ import annotations

from xstilts.stages.common import log


def run(spec: dict) -> None:
    from xstilts.io.artifact import code_version, export_model

    provenance = {"model": spec["model_name"], "entry": spec["model"],
                  "hparams": spec["hparams"], "benchmark": spec["benchmark"],
                  "seed": spec["seed"], "threads": spec["threads"],
                  "code": code_version(spec["checkout"]), "command": spec["command"]}
    export_model(spec["base"], spec["out"], provenance)
    log.info("exported %s to %s", spec["base"], spec["out"])
