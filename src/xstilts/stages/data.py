"""Stage: generate the synthetic benchmark (mini-XTREME)."""

from __future__ import annotations

from pathlib import Path

from xstilts.stages.common import atomic_dir, log


def check_settings(settings: dict) -> None:
    """Reject bad generator settings (`benchmark.synthetic`, free-form in the schema) with a
    ConfigError naming the key, before anything is generated."""
    from xstilts.data.synthetic import resolve_config
    from xstilts.data.synthetic.languages import LANGUAGE_SPECS
    from xstilts.grid.config import ConfigError

    try:
        resolved = resolve_config(settings)
    except ValueError as err:
        raise ConfigError(f"benchmark.{err}") from err
    codes = resolved.get("languages")
    if codes is not None:
        known = [s.code for s in LANGUAGE_SPECS]
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise ConfigError(f"benchmark.synthetic.languages: unknown code(s) {unknown}; "
                              f"known: {known}")
        if "en" not in codes:
            raise ConfigError("benchmark.synthetic.languages: 'en' must be included")


def run(spec: dict) -> None:
    from xstilts.data.synthetic import generate

    out = Path(spec["out"])
    check_settings(spec.get("synthetic") or {})
    with atomic_dir(out) as tmp:
        manifest = generate(tmp, spec.get("synthetic") or {})
    log.info("mini-XTREME written to %s (%d files)", out, len(manifest.get("files", {})))
