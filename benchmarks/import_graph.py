"""The package's import graph: import circles and upward imports between layers.

    python benchmarks/import_graph.py [--src src/xstilts]

Every `import xstilts...` / `from xstilts... import` / relative import counts, at module level or
inside a function (a lazy import still ties the two modules together). A circle is a strongly
connected set of two or more modules. Layers, lowest first (a module may import its own layer
and lower ones, never a higher one):

    root < io < metrics < tasks < grid < data < perturb < engine < analysis < stages < studies
    < top
(root: the package __init__, its version; top: cli, registry, worker, worker_client, __main__).
A study sits above the stages: its package declares stages of its own, built on the core ones.
Prints a table; exit status 1 if any circle or upward import (a module in a package not in
LAYERS is reported as outside the layers).
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterable
from pathlib import Path

LAYERS = ("root", "io", "metrics", "tasks", "grid", "data", "perturb", "engine", "analysis",
          "stages", "studies", "top")
TOP = {"cli", "registry", "worker", "worker_client", "__main__"}


def module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([src.name, *parts])


def _resolve(current: str, is_package: bool, level: int, target: str | None) -> str:
    if level == 0:
        return target or ""
    base = current.split(".") if is_package else current.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def imports_of(path: Path, src: Path, modules: set[str]) -> set[str]:
    """The package's modules that the file at `path` imports (anywhere in the file)."""
    me = module_name(path, src)
    tree = ast.parse(path.read_text("utf-8"), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(me, path.name == "__init__.py", node.level, node.module)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in modules else base)
    out = set()
    for name in found:  # `import xstilts.a.b` or an attribute import: the longest known module
        while name and name not in modules:
            name = name.rpartition(".")[0]
        if name and name != me:
            out.add(name)
    return out


def graph(src: Path) -> dict[str, set[str]]:
    files = sorted(src.rglob("*.py"))
    modules = {module_name(f, src) for f in files}
    return {module_name(f, src): imports_of(f, src, modules) for f in files}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def layer_of(module: str) -> str | None:
    first = (module.split(".") + [""])[1]
    if first == "":
        return "root"
    if first in TOP:
        return "top"
    return first if first in LAYERS else None


def upward_imports(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    """(importer, imported) pairs where the imported module sits in a higher layer."""
    out = []
    for module, targets in sorted(edges.items()):
        mine = layer_of(module)
        for target in sorted(targets):
            theirs = layer_of(target)
            if mine and theirs and LAYERS.index(theirs) > LAYERS.index(mine):
                out.append((module, target))
    return out


def unplaced(modules: Iterable[str]) -> list[str]:
    return sorted(m for m in modules if layer_of(m) is None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--src", type=Path,
                        default=Path(__file__).resolve().parents[1] / "src" / "xstilts")
    args = parser.parse_args(argv)
    edges = graph(args.src)
    found, upward, loose = circles(edges), upward_imports(edges), unplaced(edges)
    print("| measure | value |\n| --- | --- |")
    print(f"| modules | {len(edges)} |")
    print(f"| import edges | {sum(len(t) for t in edges.values())} |")
    print(f"| import circles | {len(found)} |")
    print(f"| upward imports | {len(upward)} |")
    print(f"| modules outside the layers | {len(loose)} |")
    for component in found:
        print("circle:", " <-> ".join(component))
    for module, target in upward:
        print(f"upward: {module} -> {target}")
    for module in loose:
        print("outside the layers:", module)
    return 1 if found or upward else 0


if __name__ == "__main__":
    sys.exit(main())
