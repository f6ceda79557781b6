"""Every stage of `xstilts <stage>`: the core stages and the ones the studies declare.

A study is a subpackage of `xstilts.studies` whose `__init__` lists its stages in `STAGES` (a
tuple of `xstilts.stages.registry.Stage`). It is found by looking at the package's folder, so
adding a study edits no existing file (docs/ARCHITECTURE.md, "How to add a study").
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from pathlib import Path

import xstilts.studies
from xstilts.stages.registry import CORE, Stage


def studies() -> list[str]:
    """The study packages' names (= their config keys), sorted."""
    return sorted(m.name for m in pkgutil.iter_modules(xstilts.studies.__path__) if m.ispkg)


def config_schemas() -> dict[str, Path]:
    """{study: its package's config.schema.yaml}, for the studies that have one: the JSON
    schema (with defaults) of the config's `<study>:` key."""
    root = Path(xstilts.studies.__file__).parent
    paths = {name: root / name / "config.schema.yaml" for name in studies()}
    return {name: path for name, path in paths.items() if path.is_file()}


@functools.cache
def stages() -> dict[str, Stage]:
    """{name: Stage}: the core stages, then each study's `STAGES`; a name given twice is an
    error naming both places."""
    found = {stage.name: stage for stage in CORE}
    where = dict.fromkeys(found, "xstilts.stages.registry.CORE")
    for name in studies():
        package = f"xstilts.studies.{name}"
        declared = getattr(importlib.import_module(package), "STAGES", ())
        for stage in declared:
            if not isinstance(stage, Stage):
                raise TypeError(f"{package}.STAGES: expected Stage entries, got {stage!r}")
            if stage.name in found:
                raise ValueError(f"{package}.STAGES: stage '{stage.name}' is already declared "
                                 f"by {where[stage.name]}")
            found[stage.name] = stage
            where[stage.name] = f"{package}.STAGES"
    return found
