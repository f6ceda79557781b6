"""Run real public files through the official XTREME layout and xstilts' readers + scorer.

    python benchmarks/real_data_check.py --xquad DIR [--xcopa DIR] [--ud FILE.conllu ...]

DIR (--xquad) holds deepmind/xquad's `xquad.<l>.json` originals; DIR (--xcopa) a checkout of
cambridgeltl/xcopa (`data/<l>/{val,test}.<l>.jsonl`); --ud takes UD treebank files
(`<l>_<treebank>-ud-<split>.conllu`). Each is laid out in a temporary folder
exactly as google-research/xtreme's download_data.sh leaves it (blanked) and with the original
labels (unblanked) by `xstilts.data.official_layout`, then read with `benchmark.source:
xtreme_dir` and scored with a perfect and an empty predictor; XQuAD is also loaded as the hub
serves it (contexts stripped, answer_start kept). Prints one table row per language.
Nothing is written outside the temporary folder; the data is not part of xstilts.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from xstilts.data import load, official_layout
from xstilts.data.hub import row_to_canonical
from xstilts.data.load import _check_answers, load_split
from xstilts.data.withheld import WithheldLabelsError
from xstilts.stages.evaluate import predict_and_score
from xstilts.tasks.registry import get_task


class Fixed:
    def __init__(self, empty: bool) -> None:
        self.empty = empty

    def predict(self, ds):
        return ["" if self.empty else a["text"][0] for a in ds["answers"]]


def _outcome(task, split, lang, source):
    try:
        return load_split(task, split, lang, source), "loaded"
    except WithheldLabelsError as err:
        return None, "refused" if "\n" not in str(err) else "refused(multi-line!)"


def xquad(folder: Path, tmp: Path) -> None:
    originals = {p.name.split(".")[1]: json.loads(p.read_text("utf-8"))
                 for p in sorted(folder.glob("xquad.*.json"))}
    roots = {}
    for kind, blank in (("blanked", True), ("unblanked", False)):
        official_layout.xquad(originals, tmp / kind, blank)
        roots[kind] = {"kind": "xtreme_dir", "path": str(tmp / kind)}
    task = get_task("xquad")
    hub_part = task.sources["hub"]["parts"][0]
    print("| lang | questions | blanked | unblanked | offsets ok | perfect EM/F1 | "
          "empty EM/F1 | hub rows shifted by strip() | hub offsets ok after re-locating |")
    print("|---|---|---|---|---|---|---|---|---|")
    for lang, data in originals.items():
        n = sum(len(p["qas"]) for d in data["data"] for p in d["paragraphs"])
        _, blanked = _outcome(task, "test", lang, roots["blanked"])
        ds, unblanked = _outcome(task, "test", lang, roots["unblanked"])
        ok = sum(r["context"][s:s + len(t)] == t for r in ds for t, s in
                 zip(r["answers"]["text"], r["answers"]["answer_start"], strict=True))
        total = sum(len(r["answers"]["text"]) for r in ds)
        perfect = predict_and_score(task, Fixed(False), ds, lang, roots["unblanked"])[2]
        empty = predict_and_score(task, Fixed(True), ds, lang, roots["unblanked"])[2]
        hub_ok = 0
        rows = official_layout.hub_strip(data)
        shifted = sum(any(r["context"][s:s + len(t)] != t for t, s in
                          zip(r["answers"]["text"], r["answers"]["answer_start"], strict=True))
                      for r in rows)
        for i, row in enumerate(rows):
            rec = row_to_canonical(task, row, {**hub_part, "defaults": {"title": ""}}, i, "hub")
            try:
                _check_answers(rec, "hub")
                hub_ok += 1
            except load.DataError:
                pass
        print(f"| {lang} | {n} | {blanked} | {unblanked} ({len(ds)}) | {ok}/{total} | "
              f"{perfect['exact_match']:.1f}/{perfect['f1']:.1f} | "
              f"{empty['exact_match']:.1f}/{empty['f1']:.1f} | {shifted} | {hub_ok}/{len(rows)} |")


def preflight_rows(folder: Path, tmp: Path) -> None:
    """`xstilts check-data` on a grid with target xquad over the laid-out real files (SQuAD's
    train/dev stand-in: the English XQuAD file)."""
    import copy
    import time

    import yaml

    from xstilts.data import preflight
    from xstilts.io.errors import DataError

    repo = Path(__file__).resolve().parents[1]
    base = yaml.safe_load((repo / "config.yaml").read_text("utf-8"))
    en = json.loads((folder / "xquad.en.json").read_text("utf-8"))
    print("\n| check-data (target xquad) | result | seconds |")
    print("|---|---|---|")
    for name, root, gold in (("blanked", tmp / "blanked", None),
                             ("unblanked", tmp / "unblanked", None),
                             ("blanked + gold_path=deepmind/xquad", tmp / "blanked", folder)):
        for split in ("train", "dev"):
            official_layout.write_squad(en, root / "squad" / f"{split}-v1.1.json")
        cfg = copy.deepcopy(base)
        cfg["benchmark"] = {"source": "xtreme_dir", "path": str(root)}
        if gold:
            cfg["benchmark"]["gold_path"] = str(gold)
        cfg.update(targets=["xquad"], recipes={}, alignment={"recipes": []},
                   models={"tiny": {**base["models"]["tiny"], "recipes": ["none"]}})
        load.clear_cache()
        started = time.perf_counter()
        try:
            preflight.check(cfg)
            result = "ok"
        except DataError as err:
            msg = str(err)
            one_line = "\n" not in msg
            result = f"refused, one line: {one_line}; {msg[:msg.index(':')]}"
        print(f"| {name} | {result} | {time.perf_counter() - started:.2f} |")


def xcopa(folder: Path, tmp: Path) -> None:
    rows = {}
    for path in sorted(folder.glob("data/*/*.jsonl")):
        split, lang = path.name.split(".")[:2]
        rows[split, lang] = [json.loads(x) for x in path.read_text("utf-8").splitlines() if x]
    copa = {"train": [], "val": [], "test": []}  # COPA itself is not needed for this check
    task = get_task("xcopa")
    print("\n| lang | test rows | blanked test | unblanked test labels (0/1) | val |")
    print("|---|---|---|---|---|")
    for kind, blank in (("blanked", True), ("unblanked", False)):
        official_layout.xcopa(copa, rows, tmp / f"xcopa-{kind}", blank)
    for lang in sorted({lang for _, lang in rows}):
        src = {k: {"kind": "xtreme_dir", "path": str(tmp / f"xcopa-{k}")}
               for k in ("blanked", "unblanked")}
        _, blanked = _outcome(task, "test", lang, src["blanked"])
        ds, _ = _outcome(task, "test", lang, src["unblanked"])
        val, val_state = _outcome(task, "validation", lang, src["blanked"])
        labels = list(ds["label"])
        print(f"| {lang} | {len(ds)} | {blanked} | {labels.count(0)}/{labels.count(1)} | "
              f"{val_state} ({len(val) if val is not None else 0}) |")


def ud(files: list[Path], tmp: Path) -> None:
    from xstilts.data.official_layout import conllu_words

    task = get_task("udpos")
    print("\n| file | sentences | words | blanked | unblanked | words and tags equal |")
    print("|---|---|---|---|---|---|")
    for i, path in enumerate(files):
        lang, split = path.name.split("_")[0], path.name.rsplit("-", 1)[1].split(".")[0]
        split_name = {"train": "train", "dev": "validation", "test": "test"}[split]
        sents = conllu_words(path.read_text("utf-8"))
        states, loaded = [], None
        for kind, blank in (("blanked", True), ("unblanked", False)):
            official_layout.udpos({(split, lang): sents}, tmp / f"ud{i}-{kind}", blank)
            ds, state = _outcome(task, split_name, lang,
                                 {"kind": "xtreme_dir", "path": str(tmp / f"ud{i}-{kind}")})
            states.append(state)
            loaded = ds if not blank else loaded
        names = loaded.features["tags"].feature
        same = [list(zip(t, names.int2str(list(g)), strict=True)) for t, g in
                zip(loaded["tokens"], loaded["tags"], strict=True)] == [list(x) for x in sents]
        print(f"| {path.name} | {len(sents)} | {sum(map(len, sents))} | {states[0]} | "
              f"{states[1]} ({len(loaded)}) | {same} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--xquad", type=Path, help="folder with deepmind/xquad's xquad.<l>.json")
    parser.add_argument("--xcopa", type=Path, help="a checkout of cambridgeltl/xcopa")
    parser.add_argument("--ud", type=Path, nargs="*", default=[], help="UD .conllu files")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.xquad:
            xquad(args.xquad, Path(tmp))
            preflight_rows(args.xquad, Path(tmp))
        if args.xcopa:
            xcopa(args.xcopa, Path(tmp))
        if args.ud:
            ud(args.ud, Path(tmp))


if __name__ == "__main__":
    main()
