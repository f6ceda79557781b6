"""Robustness tables and figures from the robustness stage's JSON files (the study's entry).

    python -m xstilts.studies.robustness --tables DIR [--figures DIR]
        [--recipes JSON | --config FILE] robustness.json...
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

from xstilts.io.errors import DataError
from xstilts.studies.robustness.figures import make_robustness_figures
from xstilts.studies.robustness.tables import adversarial_pairs, collect, write_robustness_tables


def pairs_from_config(path: Path) -> dict[str, str]:
    """Adversarial pairs of the recipes of a config file."""
    from xstilts.grid.config import recipes

    try:
        config = yaml.safe_load(Path(path).read_text("utf-8")) or {}
    except (OSError, yaml.YAMLError) as err:
        raise DataError(f"{path}: cannot read config: {err}") from err
    return adversarial_pairs(recipes(config))


def _recipes_arg(text: str) -> dict[str, dict]:
    try:
        recipes = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(f"--recipes is not valid JSON: {err}") from err
    if not isinstance(recipes, dict) or not all(isinstance(r, dict) for r in recipes.values()):
        raise DataError("--recipes must be a JSON object {recipe: {tasks, ...}}")
    return recipes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xstilts.studies.robustness",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", "--tables", dest="out", required=True, type=Path,
                        help="output folder of the tables")
    parser.add_argument("--figures", type=Path, default=None,
                        help="also write the figures (xstilts.studies.robustness.figures) here")
    parser.add_argument("--baseline", default="none", help="recipe listed first")
    pairs_from = parser.add_mutually_exclusive_group()
    pairs_from.add_argument("--config", type=Path, default=None,
                            help="config file whose recipes give the adversarial/clean pairs")
    pairs_from.add_argument("--recipes", default=None,
                            help="the recipes as JSON ({name: {tasks, adversarial, ...}}, as "
                                 "xstilts.grid.config.recipes returns them)")
    parser.add_argument("files", nargs="+", type=Path, help="robustness JSON files")
    args = parser.parse_args(argv)
    from xstilts.io.provenance import start_tool_log

    start_tool_log("robustness_tables")
    try:
        if args.config:
            pairs = pairs_from_config(args.config)
        else:
            pairs = adversarial_pairs(_recipes_arg(args.recipes)) if args.recipes else {}
        frame = collect(args.files)
    except DataError as err:
        print(f"xstilts.studies.robustness: error: {err}", file=sys.stderr)
        return 1
    written = write_robustness_tables(frame, args.out, pairs, args.baseline)
    if args.figures is not None:
        args.figures.mkdir(parents=True, exist_ok=True)
        written += make_robustness_figures(frame, args.figures, baseline=args.baseline)
    for path in written:
        print(path)
    return 0

