"""Cross-lingual alignment per layer and language family for one or more encoders.

    python benchmarks/alignment.py results/models/tiny/base results/models/tiny_random/base \
        [--data results/data/mini-xtreme] [--pairs 150]

Prints, per encoder, retrieval accuracy@1 of Tatoeba-style parallel pairs with English
(mean-pooled layer, cosine, per-language mean-centering, both directions) averaged per family,
for every layer (0 = embeddings).
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from xstilts.data.languages import read_language_table
from xstilts.studies.alignment.measure import layer_alignment, tatoeba_pairs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("encoders", nargs="+")
    parser.add_argument("--data", type=Path, default=Path("results/data/mini-xtreme"))
    parser.add_argument("--pairs", type=int, default=150)
    args = parser.parse_args()
    table = read_language_table(args.data / "languages.csv")
    family = dict(zip(table["lang"], table["family"], strict=True))
    pairs = tatoeba_pairs(args.data, limit=args.pairs)
    for encoder in args.encoders:
        scores = layer_alignment(pairs, encoder)
        layers = len(next(iter(scores.values())))
        by_family: dict[str, list[list[float]]] = defaultdict(list)
        for lang, values in scores.items():
            by_family[family[lang]].append(values)
        print(f"\n{encoder}: accuracy@1 (%) of parallel pairs with English, mean per family")
        print("| family (langs) | " + " | ".join(f"L{i}" for i in range(layers)) + " |")
        print("| --- |" + " --- |" * layers)
        for fam, rows in sorted(by_family.items()):
            means = [sum(r[i] for r in rows) / len(rows) for i in range(layers)]
            print(f"| {fam} ({len(rows)}) | " + " | ".join(f"{m:.1f}" for m in means) + " |")


if __name__ == "__main__":
    main()
