"""The package's layers: no import circle, no import from a higher layer.

The graph and the layers are benchmarks/import_graph.py's (which prints them as a table).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src" / "xstilts"

spec = importlib.util.spec_from_file_location("import_graph",
                                              REPO / "benchmarks" / "import_graph.py")
import_graph = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = import_graph
spec.loader.exec_module(import_graph)


def test_no_import_circles():
    assert import_graph.circles(import_graph.graph(SRC)) == []


def test_no_upward_imports():
    assert import_graph.upward_imports(import_graph.graph(SRC)) == []


def test_every_module_sits_in_a_layer():
    assert import_graph.unplaced(import_graph.graph(SRC)) == []


def test_the_graph_sees_lazy_relative_and_attribute_imports(tmp_path):
    """A circle through a function-level import and an upward `from pkg import module` count."""
    pkg = tmp_path / "xstilts"
    for folder in ("io", "engine"):
        (pkg / folder).mkdir(parents=True)
        (pkg / folder / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "engine" / "a.py").write_text("from .b import x\n")
    (pkg / "engine" / "b.py").write_text("def f():\n    from xstilts.engine import a\n")
    (pkg / "io" / "c.py").write_text("def g():\n    import xstilts.engine.a.thing\n")
    edges = import_graph.graph(pkg)
    assert import_graph.circles(edges) == [["xstilts.engine.a", "xstilts.engine.b"]]
    assert import_graph.upward_imports(edges) == [("xstilts.io.c", "xstilts.engine.a")]
