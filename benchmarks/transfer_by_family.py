"""Zero-shot transfer by language family: the pretrained base model vs the no-pretraining control.

Reads a finished run's `results/tables/tidy.csv` and the benchmark's `languages.csv`, and prints
per target and family the mean task score of a recipe (default `none`) for two base models, their
difference, and the average over the trained targets (retrieval targets listed apart). English is
its own row; the families are those of the other languages.

    python benchmarks/transfer_by_family.py [--workdir DIR] [--pretrained tiny]
        [--control tiny_random] [--recipe none]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from xstilts.analysis.scores import SCORE

RETRIEVAL = ("bucc2018", "tatoeba")


def family_scores(tidy: pd.DataFrame, languages: pd.DataFrame, recipe: str) -> pd.DataFrame:
    """Mean task score per model, target and family (English separate)."""
    scores = tidy[(tidy["metric"] == SCORE) & (tidy["recipe"] == recipe)]
    family = dict(zip(languages["lang"], languages["family"], strict=True))
    scores = scores.assign(family=[("English" if lang == "en" else family[lang])
                                   for lang in scores["language"]])
    return scores.groupby(["target", "family", "model"])["value"].mean().unstack("model")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workdir", type=Path, default=Path("."))
    parser.add_argument("--pretrained", default="tiny")
    parser.add_argument("--control", default="tiny_random")
    parser.add_argument("--recipe", default="none")
    args = parser.parse_args()
    results = args.workdir / "results"
    tidy = pd.read_csv(results / "tables" / "tidy.csv")
    languages = pd.read_csv(results / "data" / "mini-xtreme" / "languages.csv")
    table = family_scores(tidy, languages, args.recipe)[[args.pretrained, args.control]]
    table["delta"] = table[args.pretrained] - table[args.control]
    trained = table[~table.index.get_level_values("target").isin(RETRIEVAL)]
    average = trained.groupby("family").mean()
    print(f"recipe `{args.recipe}`: {args.pretrained} (pretrained) vs {args.control} "
          "(no pretraining); task score per target and family")
    print()
    cells = (table[args.pretrained].map("{:.1f}".format) + " / "
             + table[args.control].map("{:.1f}".format) + " ("
             + table["delta"].map("{:+.1f}".format) + ")")
    print(f"cells: {args.pretrained} / {args.control} (difference)")
    print()
    print(cells.unstack("family").fillna("").to_markdown())
    print()
    print("average over the trained targets:")
    print()
    print(average.round(1).to_markdown())


if __name__ == "__main__":
    main()
