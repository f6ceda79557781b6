"""Stage: generate the synthetic benchmark (mini-XTREME)."""

from __future__ import annotations

from pathlib import Path

from xstilts.stages.common import atomic_dir, log


def run(spec: dict) -> None:
    from xstilts.data.synthetic import generate

    out = Path(spec["out"])
    with atomic_dir(out) as tmp:
        manifest = generate(tmp, spec.get("synthetic") or {})
    log.info("mini-XTREME written to %s (%d files)", out, len(manifest.get("files", {})))
