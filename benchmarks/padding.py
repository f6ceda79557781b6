"""Padding waste and throughput: dynamic padding + length grouping vs fixed max-length padding.

Same tiny model, same data, same batch size, in one run. "fixed" pads every batch to
`--max-length` with random batches (as google-research/xtreme's scripts do with
`pad_to_max_length`); "dynamic" pads to the longest example of each batch with length-grouped
batches (what xstilts' training does). Waste = padded tokens / processed tokens.

    python benchmarks/padding.py [--encoder DIR] [--steps 40] [--batch-size 32] [--threads 2]

Goal: dynamic waste <= 10% and >= 1.5x the steps per second of fixed padding.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

SYL = ["ka", "to", "mi", "ra", "su", "ne", "lo", "pa", "di", "gu", "be", "fo", "an", "el", "is"]


def synthetic_rows(n: int, seed: int) -> list[dict]:
    """Sentence pairs with a skewed (log-normal) length distribution, like NLI data."""
    rng = random.Random(seed)
    lex = ["".join(rng.choice(SYL) for _ in range(rng.randint(1, 3))) for _ in range(500)]

    def sent() -> str:
        return " ".join(rng.choice(lex) for _ in range(max(2, int(rng.lognormvariate(2.4, 0.6)))))

    return [{"id": str(i), "text_a": sent(), "text_b": sent(), "label": i % 3}
            for i in range(n)]


def build_encoder(root: Path) -> Path:
    from xstilts.engine.tiny_model import init_encoder
    from xstilts.engine.tokenizer import train_tokenizer

    texts = [r["text_a"] for r in synthetic_rows(2000, seed=1)]
    tok = train_tokenizer(texts, 2000, root / "tok")
    size = {"hidden": 128, "layers": 2, "heads": 2, "intermediate": 256, "max_position": 128}
    return init_encoder(size, tok, root / "enc", seed=0)


def run(mode: str, model, feats, tok, batch_size: int, max_length: int, steps: int,
        seed: int) -> dict:
    import numpy as np
    import torch

    from xstilts.engine.collate import make_collator
    from xstilts.engine.multitask import length_grouped_batches

    lengths = list(feats["length"])
    dynamic = mode == "dynamic"
    rng = np.random.default_rng(seed)
    batches = []
    while len(batches) < steps:
        batches += length_grouped_batches(lengths, batch_size, rng, group=dynamic)
    batches = [b for b in batches if len(b) == batch_size][:steps]
    collate = make_collator("classification", tok, pad_to_length=None if dynamic else max_length)
    rows = [feats[i] for i in range(len(feats))]
    optim = torch.optim.AdamW(model.parameters(), lr=1e-4)
    model.train()
    real = padded = 0
    warm = 3
    start = 0.0
    for step, idx in enumerate(batches):
        if step == warm:
            start = time.perf_counter()
        batch = collate([rows[i] for i in idx])
        n_real = int(batch["attention_mask"].sum())
        if step >= warm:
            real += n_real
            padded += batch["attention_mask"].numel() - n_real
        loss = model(**batch).loss
        loss.backward()
        optim.step()
        optim.zero_grad()
    elapsed = time.perf_counter() - start
    return {"mode": mode, "steps": len(batches) - warm, "seconds": elapsed,
            "steps_per_s": (len(batches) - warm) / elapsed,
            "waste": padded / (real + padded), "tokens_per_s": real / elapsed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", type=Path, help="encoder dir (default: a fresh tiny one)")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--examples", type=int, default=4000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import torch
    from datasets import Dataset
    from transformers import AutoTokenizer

    from xstilts.data.schema import features_for
    from xstilts.engine.featurize import featurize
    from xstilts.engine.modeling import build_model
    from xstilts.tasks.registry import TaskSpec

    torch.set_num_threads(args.threads)
    spec = TaskSpec("bench", "classification", "target", "accuracy", labels=("a", "b", "c"))
    with tempfile.TemporaryDirectory() as tmp:
        encoder = args.encoder or build_encoder(Path(tmp))
        tok = AutoTokenizer.from_pretrained(str(encoder))
        rows = synthetic_rows(args.examples, args.seed)
        ds = Dataset.from_list(rows, features=features_for(spec))
        feats = featurize(spec, ds, tok, args.max_length)
        results = []
        for mode in ("fixed", "dynamic"):
            torch.manual_seed(args.seed)
            model = build_model(spec, encoder)
            results.append(run(mode, model, feats, tok, args.batch_size, args.max_length,
                               args.steps + 3, args.seed))
    lengths = sorted(feats["length"])
    print(f"\n{len(lengths)} examples, tokens per example: median {lengths[len(lengths) // 2]}, "
          f"max {lengths[-1]}; batch {args.batch_size}, max_length {args.max_length}, "
          f"threads {args.threads}\n")
    print(f"{'padding':<10}{'steps':>7}{'seconds':>10}{'steps/s':>10}{'tokens/s':>11}{'waste':>8}")
    for r in results:
        print(f"{r['mode']:<10}{r['steps']:>7}{r['seconds']:>10.2f}{r['steps_per_s']:>10.2f}"
              f"{r['tokens_per_s']:>11.0f}{r['waste']:>8.1%}")
    fixed, dyn = results
    speedup = dyn["steps_per_s"] / fixed["steps_per_s"]
    ok = dyn["waste"] <= 0.10 and speedup >= 1.5
    print(f"\nspeed-up {speedup:.2f}x, dynamic waste {dyn['waste']:.1%}: "
          f"{'goal met' if ok else 'GOAL MISSED'} (waste <= 10%, speed-up >= 1.5x)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
