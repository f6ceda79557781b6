"""Real LASER Tatoeba through `benchmark.source: xtreme_dir`: no silent wrong numbers.

Takes LASER's `data/tatoeba/v1` folder (a checkout of facebookresearch/LASER; nothing is
downloaded). For each of XTREME's 36 Tatoeba languages it builds, in a temporary folder,
(a) XTREME's `tatoeba/` layout with our re-implementation of utils_preprocess.py's
tatoeba_preprocess (tests/xtreme_official.py: English side stripped and sorted) and (b) LASER's
unblanked originals copied into `tatoeba/`, then runs the retrieve stage with a perfect
("oracle") encoder:

- official: (a) without gold: the stage must refuse the score and still write predictions;
- +gold: (a) with `benchmark.gold_path` = the LASER folder: accuracy must be 100;
- laser: (b): accuracy must be 100;
- each exported submission is scored with xstilts.analysis.scoring (evaluate.py's logic) against
  XTREME's own labels (the sorted order's LASER line numbers, from the re-implementation): 100;
- `laser-order`: what a submission in LASER's order (the old export) scores against them.

"silent" counts numbers that are not 100 or scores given without gold. With `--model`, a real
encoder (e.g. assets/models/tiny) is also run on `--model-langs` in both layouts: XTREME's
order must not change its accuracy.

    python benchmarks/real_retrieval_check.py --laser PATH/TO/LASER/data/tatoeba/v1
        [--langs de,fr] [--model assets/models/tiny --model-langs de,ru,zh]
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from xtreme_official import LANG3_TO_2, tatoeba_preprocess  # noqa: E402

from xstilts.analysis.scoring import score_folder  # noqa: E402
from xstilts.engine import retrieval  # noqa: E402
from xstilts.stages import retrieve  # noqa: E402
from xstilts.tasks.registry import get_task  # noqa: E402

LANG2_TO_3 = {v: k for k, v in LANG3_TO_2.items()}


def _lines(path: Path) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


class Oracle:
    """A perfect encoder for one language: a sentence's vector is the one-hot of its LASER line
    (both sides), plus a small shared part."""

    def __init__(self) -> None:
        self.meaning: dict[str, int] = {}
        self.real_load = retrieval.load_retrieval_encoder
        self.real_embed = retrieval.embed_all_layers

    def set_language(self, laser: Path, l3: str) -> None:
        src, eng = _lines(laser / f"tatoeba.{l3}-eng.{l3}"), _lines(laser / f"tatoeba.{l3}-eng.eng")
        self.meaning = {}
        for i, (s, e) in enumerate(zip(src, eng, strict=True)):
            for text in (s.strip(), e.strip()):
                if self.meaning.setdefault(text, i) != i:
                    raise SystemExit(f"{laser}: '{text}' occurs with two meanings ({l3})")
        self.dim = len(src)

    def embed(self, texts, enc, pooling, max_length, batch_size, threads, layers, *_, **__):
        out = np.full((len(layers), len(texts), self.dim), 0.05, dtype=np.float32)
        for row, text in enumerate(texts):
            out[:, row, self.meaning[str(text).strip()]] += 1.0
        return out

    def __enter__(self) -> Oracle:
        model = SimpleNamespace(config=SimpleNamespace(num_hidden_layers=1))
        retrieval.load_retrieval_encoder = lambda *_, **__: retrieval.Encoder(model, None, "oracle")
        retrieval.embed_all_layers = self.embed
        return self

    def __exit__(self, *exc) -> None:
        retrieval.load_retrieval_encoder = self.real_load
        retrieval.embed_all_layers = self.real_embed


def run_stage(work: Path, tag: str, lang: str, benchmark: dict, encoder: str) -> dict:
    out = work / tag / "scores.json"
    spec = {"target": "tatoeba", "benchmark": benchmark,
            "tasks": {"tatoeba": {"languages": [lang]}}, "encoder": encoder, "threads": 1,
            "retrieval": {"layer": None, "pooling": "mean", "max_length": 128,
                          "sweep_layers": False},
            "ids": {"model": "check", "recipe": "none", "seed": 1},
            "out": str(out), "predictions": str(work / tag / "pred" / "tatoeba")}
    retrieve.run(spec)
    return json.loads(out.read_text())


def scored(work: Path, tag: str, lang: str, labels: Path) -> float:
    per_language, _ = score_folder(work / tag / "pred", labels, tasks=["tatoeba"],
                                   languages={"tatoeba": [lang]})
    return float(per_language["value"].iloc[0])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--laser", type=Path, required=True, help="LASER's data/tatoeba/v1")
    parser.add_argument("--langs", default=None, help="comma-separated (default: XTREME's 36)")
    parser.add_argument("--model", default=None, help="also run this encoder (optional)")
    parser.add_argument("--model-langs", default="de,ru,zh")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    langs = args.langs.split(",") if args.langs else list(get_task("tatoeba").languages)
    work = Path(tempfile.mkdtemp(prefix="xstilts-tatoeba-"))
    official, laser_copy, labels = work / "official", work / "laser", work / "labels" / "tatoeba"
    labels.mkdir(parents=True)
    gold = tatoeba_preprocess(args.laser, official / "tatoeba", [LANG2_TO_3[x] for x in langs])
    for lang, rows in gold.items():
        (labels / f"test-{lang}.tsv").write_text("".join(f"{i}\n" for i in rows))
    (laser_copy / "tatoeba").mkdir(parents=True)
    for lang in langs:
        for side in (LANG2_TO_3[lang], "eng"):
            name = f"tatoeba.{LANG2_TO_3[lang]}-eng.{side}"
            shutil.copy(args.laser / name, laser_copy / "tatoeba" / name)
    bench = {"official": {"source": "xtreme_dir", "path": str(official)},
             "+gold": {"source": "xtreme_dir", "path": str(official),
                       "gold_path": str(args.laser)},
             "laser": {"source": "xtreme_dir", "path": str(laser_copy)}}
    header = (f"{'lang':4} {'n':>5} | {'official':>16} {'submission':>10} | {'+gold':>6} "
              f"{'submission':>10} | {'laser':>6} {'submission':>10} | {'laser-order':>11} | "
              "silent")
    print(header)
    print("-" * len(header))
    silent_total, start = 0, time.perf_counter()
    with Oracle() as oracle:
        for lang in langs:
            oracle.set_language(args.laser, LANG2_TO_3[lang])
            tag = f"{lang}-"
            res = {k: run_stage(work, tag + k, lang, b, "oracle") for k, b in bench.items()}
            sub = {k: scored(work, tag + k, lang, work / "labels") for k in bench}
            refused = res["official"]["languages"] == {} and "refused" in res["official"]
            acc = {k: res[k]["languages"].get(lang, {}).get("accuracy") for k in ("+gold", "laser")}
            n = len(gold[lang])
            ident = work / "identity" / "tatoeba"
            ident.mkdir(parents=True, exist_ok=True)
            (ident / f"test-{lang}.tsv").write_text("".join(f"{i}\n" for i in range(n)))
            old = score_folder(ident.parent, work / "labels", tasks=["tatoeba"],
                               languages={"tatoeba": [lang]})[0]["value"].iloc[0]
            silent = int(not refused) + sum(v != 100.0 for v in acc.values()) + \
                sum(v != 100.0 for v in sub.values())
            silent_total += silent
            print(f"{lang:4} {n:5d} | {'refused, written':>16} {sub['official']:10.1f} | "
                  f"{acc['+gold']:6.1f} {sub['+gold']:10.1f} | {acc['laser']:6.1f} "
                  f"{sub['laser']:10.1f} | {old:11.1f} | {silent}"
                  if refused else f"{lang:4} {n:5d} | SCORED WITHOUT GOLD | {silent}")
    print(f"\n{len(langs)} languages, {silent_total} silent wrong numbers "
          f"({time.perf_counter() - start:.1f} s, oracle encoder)")
    if args.model:
        print(f"\nreal encoder {args.model}: accuracy per layout (XTREME's order must not "
              "change it)")
        print(f"{'lang':4} {'+gold':>7} {'laser':>7} {'submission':>10}")
        for lang in args.model_langs.split(","):
            tag = f"{lang}-model-"
            a = run_stage(work, tag + "gold", lang, bench["+gold"], args.model)
            b = run_stage(work, tag + "laser", lang, bench["laser"], args.model)
            print(f"{lang:4} {a['languages'][lang]['accuracy']:7.2f} "
                  f"{b['languages'][lang]['accuracy']:7.2f} "
                  f"{scored(work, tag + 'gold', lang, work / 'labels'):10.2f}")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
