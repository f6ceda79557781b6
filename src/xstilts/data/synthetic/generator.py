"""mini-XTREME generation: canonical records per (task, split, language) and the files on disk."""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xstilts.data.synthetic import retrieval
from xstilts.data.synthetic.config import resolve_config
from xstilts.data.synthetic.extension_tasks import EXTENSION_BUILDERS
from xstilts.data.synthetic.grammar import CCG_TAGS, Realizer, Text
from xstilts.data.synthetic.languages import (
    Language,
    build_languages,
    english_vocabulary,
    extend_lexicons,
)
from xstilts.data.synthetic.tasks import BUILDERS, Example, random_declaratives, render
from xstilts.data.synthetic.world import World
from xstilts.io.atomic import sha256

INTERMEDIATE = ("anli_plus", "mnli", "qqp", "squad_v2", "squad_v1", "hellaswag", "ccg",
                "cosmosqa", "commonsenseqa")
TRAINED_TARGETS = ("xnli", "pawsx", "udpos", "panx", "tydiqa")
EVAL_ONLY_TARGETS = ("xquad", "mlqa")
RETRIEVAL = ("bucc2018", "tatoeba")
# extension tasks (extension_tasks.py): own random streams and extension words, so they leave
# every other task's files unchanged
EXTENSION_TARGETS = ("xcopa", "tweet_sentiment")  # xcopa's English train/validation = copa's
MULTILINGUAL_INTERMEDIATE = ("sib200", "masakhaner")  # + native data in low-resource languages
_ALL_BUILDERS = {**BUILDERS, **EXTENSION_BUILDERS}
# targets trained on an intermediate task's training set (XTREME trains XNLI on MultiNLI); the
# two tasks' builders must be the same
TRAIN_FROM = {"xnli": "mnli"}
SPLITS = ("train", "validation", "test")
LANGUAGE_COLUMNS = ("lang", "name", "family", "script", "word_order", "morphology",
                    "resource_level", "spaces", "mlm_sentences")

Record = dict[str, Any]


class Benchmark:
    """Languages, realizers and the world of one generator run."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        self.seed = cfg["seed"]
        self.languages: list[Language] = build_languages(self.seed, cfg["languages"])
        self.realizers = {lang.code: Realizer(lang) for lang in self.languages}
        self.english = self.realizers["en"]
        # intermediate task -> its training examples (for the targets of TRAIN_FROM)
        self.train_of: dict[str, list[Example]] = {}
        # id(example) -> (example, its English record without id), filled by `examples`
        self._english: dict[int, tuple[Example, Record]] = {}
        forbidden = set(english_vocabulary())
        for lang in self.languages:
            forbidden.update(lang.lexicon.values())
        w = cfg["world"]
        self.world = World(self.rng("world"), w["people"], w["cities"], w["orgs"], forbidden)
        names = {part for p in self.world.people for part in (p.first, p.last)}
        names.update(part for c in self.world.cities for part in c)
        names.update(part for o in self.world.orgs for part in o.name)
        extend_lexicons(self.languages, self.seed, names)

    @property
    def codes(self) -> list[str]:
        return [lang.code for lang in self.languages]

    def rng(self, *parts: object) -> random.Random:
        """An independent, seeded stream (string seeds are hashed with SHA-512, not hash())."""
        return random.Random("/".join(str(p) for p in (self.seed, *parts)))

    def mlm_size(self, lang: Language) -> int:
        return int(self.cfg["mlm"][lang.spec.resource])

    @property
    def low_resource(self) -> list[str]:
        return [lang.code for lang in self.languages if lang.spec.resource == "low"]

    def examples(self, task: str, split: str, n: int, seen: set[str],
                 stream: tuple[str, ...] | None = None) -> list[Example]:
        """`n` examples whose English rendering is new (not in `seen`, updated in place).

        Drawn from the random stream `stream` (default: (task, split)).
        """
        self.world.rng = self.rng(*(stream or (task, split)))
        out: list[Example] = []
        for _ in range(max(50, 20 * n)):
            if len(out) >= n:
                break
            ex = _ALL_BUILDERS[task](self.world)
            rec = render(ex, self.english, "", task)
            key = json.dumps(rec, sort_keys=True, ensure_ascii=False)
            if key in seen:
                continue
            seen.add(key)
            out.append(ex)
            self._english[id(ex)] = (ex, rec)  # holding ex keeps its id unique
        return out

    def english_record(self, ex: Example) -> Record:
        """The English record (without id) `examples` rendered for `ex`."""
        cached = self._english.get(id(ex))
        if cached is None or cached[0] is not ex:
            raise KeyError("example was not drawn by Benchmark.examples")
        return cached[1]

    def render_all(self, task: str, split: str, examples: list[Example],
                   lang: str) -> list[Record]:
        realizer = self.realizers[lang]
        out = []
        for i, ex in enumerate(examples):
            uid = f"{task}-{split}-{i:06d}"
            cached = self._english.get(id(ex)) if lang == "en" else None
            out.append({**cached[1], "id": uid} if cached and cached[0] is ex
                       else render(ex, realizer, uid, task))
        return out


def generate_records(cfg: dict[str, Any] | None = None
                     ) -> Iterator[tuple[str, str, str, list[Record] | dict[str, list[Record]]]]:
    """Yield (task, split, lang, records) for every task, split and language of mini-XTREME.

    Intermediate tasks: English train/validation plus train in every other language
    (translated). Trained targets: English train, validation and test in every language.
    xquad/mlqa: validation and test in every language (their training data is squad_v1).
    Retrieval tasks (non-English languages, paired with English): dicts with source/target/gold.
    MLM: train and validation text per language.
    """
    cfg = resolve_config(cfg)
    bench = Benchmark(cfg)
    sizes = cfg["sizes"]
    others = [c for c in bench.codes if c != "en"]
    for task in INTERMEDIATE:
        seen: set[str] = set()
        train = bench.examples(task, "train", sizes[task]["train"], seen)
        bench.train_of[task] = train
        yield task, "train", "en", bench.render_all(task, "train", train, "en")
        val = bench.examples(task, "validation", sizes[task]["validation"], seen)
        yield task, "validation", "en", bench.render_all(task, "validation", val, "en")
        n_trans = min(int(cfg["translated_train"]), len(train))
        if n_trans > 0:
            for lang in others:
                yield task, "train", lang, bench.render_all(task, "train", train[:n_trans], lang)
    for task in TRAINED_TARGETS + EVAL_ONLY_TARGETS:
        for split, examples in _target_splits(bench, task):
            yield from _rendered_target(bench, task, split, examples)
    yield from _extension_tasks(bench)
    yield from _retrieval(bench)
    for lang in bench.languages:
        for split, n in (("train", bench.mlm_size(lang)), ("validation", cfg["mlm"]["validation"])):
            texts = random_declaratives(bench.world, n, bench.rng("mlm", split, lang.code))
            realizer = bench.realizers[lang.code]
            yield "mlm", split, lang.code, [
                {"id": f"mlm-{split}-{lang.code}-{i:06d}", "lang": lang.code,
                 "text": realizer.string(t)} for i, t in enumerate(texts)]


def _target_splits(bench: Benchmark, task: str) -> Iterator[tuple[str, list]]:
    """(split, examples) of a target's configured splits, distinct across splits.

    A target of `TRAIN_FROM` draws its training examples from its source task's training
    stream: with equal sizes (the default) they are the source's training set, as XTREME's
    download writes MultiNLI's training set as XNLI's.
    """
    seen: set[str] = set()
    for split in SPLITS:
        if split not in bench.cfg["sizes"][task]:
            continue
        n = bench.cfg["sizes"][task][split]
        source = TRAIN_FROM.get(task) if split == "train" else None
        if source is None:
            yield split, bench.examples(task, split, n, seen)
        elif len(bench.train_of.get(source, ())) >= n:
            train = bench.train_of[source][:n]
            seen.update(json.dumps(bench.english_record(ex), sort_keys=True, ensure_ascii=False)
                        for ex in train)
            yield split, train
        else:
            yield split, bench.examples(task, split, n, seen, (source, split))


def _rendered_target(bench: Benchmark, task: str, split: str, examples: list
                     ) -> Iterator[tuple[str, str, str, list[Record]]]:
    """A target split's records: English train, every language for validation and test."""
    for lang in (["en"] if split == "train" else bench.codes):
        yield task, split, lang, bench.render_all(task, split, examples, lang)


def _extension_tasks(bench: Benchmark) -> Iterator[tuple[str, str, str, list[Record]]]:
    """XCOPA and tweet sentiment (targets), SIB-200 and MasakhaNER (multilingual intermediate).

    xcopa: English train (written as copa's train), validation and test in every language, plus
    copa's English validation (the same examples as xcopa's English validation).
    sib200/masakhaner: English train/validation plus `multilingual_train` native examples (not
    translations) per low-resource language, each language from its own random stream.
    """
    sizes = bench.cfg["sizes"]
    for task in EXTENSION_TARGETS:
        for split, examples in _target_splits(bench, task):
            yield from _rendered_target(bench, task, split, examples)
            if task == "xcopa" and split == "validation":
                yield "copa", split, "en", bench.render_all("copa", split, examples, "en")
    n_native = int(bench.cfg["multilingual_train"])
    for task in MULTILINGUAL_INTERMEDIATE:
        seen = set()
        for split in ("train", "validation"):
            examples = bench.examples(task, split, sizes[task][split], seen)
            yield task, split, "en", bench.render_all(task, split, examples, "en")
        for lang in bench.low_resource:
            if n_native > 0:
                examples = bench.examples(task, "train", n_native, set(), (task, "train", lang))
                yield task, "train", lang, bench.render_all(task, f"train-{lang}", examples,
                                                            lang)


def retrieval_records(cfg: dict[str, Any] | None = None
                      ) -> Iterator[tuple[str, str, str, dict[str, list[Record]]]]:
    """Only the retrieval tasks' (task, split, lang, records) of `generate_records` (the same
    records: retrieval draws from its own random streams)."""
    yield from _retrieval(Benchmark(resolve_config(cfg)))


def multilingual_train_languages(cfg: dict[str, Any] | None = None) -> list[str]:
    """Languages with training data of the multilingual intermediate tasks (en + low-resource)."""
    cfg = resolve_config(cfg)
    langs = build_languages(cfg["seed"], cfg["languages"])
    low = [lang.code for lang in langs if lang.spec.resource == "low"]
    return ["en"] + (low if int(cfg["multilingual_train"]) > 0 else [])


def _retrieval(bench: Benchmark) -> Iterator[tuple[str, str, str, dict[str, list[Record]]]]:
    """Tatoeba and BUCC in minimal-pair groups (`retrieval.groups`), paired with English.

    Tatoeba: the same English sentences for every language, line i = line i. BUCC: per
    language and split, one group per gold pair; the group's other members are the distractors
    of the two sides (gold density n_gold / (n_gold + distractors)); both sides shuffled.
    """
    sizes = bench.cfg["sizes"]
    size = int(bench.cfg["retrieval_group"])
    others = [c for c in bench.codes if c != "en"]
    n = sizes["tatoeba"]["test"]
    rng = bench.rng("tatoeba", "test")
    texts = [t for g in retrieval.groups(bench.world, bench.english,
                                         [size] * (n // size) + ([n % size] if n % size else []),
                                         rng) for t in g]
    rng.shuffle(texts)
    for lang in others:
        src = [{"id": str(i), "text": bench.realizers[lang].string(t)} for i, t in enumerate(texts)]
        trg = [{"id": str(i), "text": bench.english.string(t)} for i, t in enumerate(texts)]
        gold = [{"source_id": s["id"], "target_id": t["id"]} for s, t in zip(src, trg, strict=True)]
        yield "tatoeba", "test", lang, {"source": src, "target": trg, "gold": gold}
    for split in ("validation", "test"):
        n_gold, n_dis = sizes["bucc2018"][split]["gold"], sizes["bucc2018"][split]["distractors"]
        share = [n_dis // n_gold + (g < n_dis % n_gold) for g in range(n_gold)]
        for lang in others:
            rng = bench.rng("bucc2018", split, lang)
            grouped = retrieval.groups(bench.world, bench.english, [1 + 2 * k for k in share],
                                       rng)
            src_items: list[tuple[Text, int | None]] = []
            trg_items: list[tuple[Text, int | None]] = []
            for g, (group, k) in enumerate(zip(grouped, share, strict=True)):
                src_items += [(group[0], g)] + [(t, None) for t in group[1:1 + k]]
                trg_items += [(group[0], g)] + [(t, None) for t in group[1 + k:]]
            rng.shuffle(src_items)
            rng.shuffle(trg_items)
            src, trg, s_of, t_of = [], [], {}, {}
            for j, (t, g) in enumerate(src_items):
                sid = f"{lang}-{j:09d}"
                src.append({"id": sid, "text": bench.realizers[lang].string(t)})
                if g is not None:
                    s_of[g] = sid
            for j, (t, g) in enumerate(trg_items):
                tid = f"en-{j:09d}"
                trg.append({"id": tid, "text": bench.english.string(t)})
                if g is not None:
                    t_of[g] = tid
            gold = [{"source_id": s_of[g], "target_id": t_of[g]} for g in sorted(s_of,
                                                                                 key=s_of.get)]
            yield "bucc2018", split, lang, {"source": src, "target": trg, "gold": gold}


# ---------------------------------------------------------------------------- files
def language_rows(cfg: dict[str, Any] | None = None) -> list[dict[str, str]]:
    """The rows of languages.csv."""
    cfg = resolve_config(cfg)
    rows = []
    for lang in build_languages(cfg["seed"], cfg["languages"]):
        s = lang.spec
        rows.append({"lang": s.code, "name": s.name, "family": s.family, "script": s.script,
                     "word_order": s.order, "morphology": s.morphology,
                     "resource_level": s.resource, "spaces": str(s.spaces).lower(),
                     "mlm_sentences": str(cfg["mlm"][s.resource])})
    return rows


def parallel_rows(bench: Benchmark, lang: str, texts: list[Text]) -> list[dict[str, str]]:
    """Aligned parallel sentences with English, then the aligned word pairs they contain."""
    rows, words = [], set()
    tgt_real = bench.realizers[lang]
    for text in texts:
        en_toks, xx_toks = bench.english.text(text), tgt_real.text(text)
        by_src: dict[object, list[int]] = {}
        for i, t in enumerate(en_toks):
            by_src.setdefault(t.src, []).append(i)
        pairs = [(i, j) for j, t in enumerate(xx_toks) for i in by_src.get(t.src, [])]
        for i, j in pairs:
            e, x = en_toks[i], xx_toks[j]
            if e.upos not in ("PROPN", "NUM", "PUNCT") and e.text.lower() != x.text.lower():
                words.add((e.text.lower(), x.text.lower()))
        rows.append({"type": "sent", "en": " ".join(t.text for t in en_toks),
                     lang: " ".join(t.text for t in xx_toks),
                     "alignment": " ".join(f"{i}-{j}" for i, j in sorted(pairs)),
                     "en_text": bench.english.join(en_toks)[0],
                     "text": tgt_real.join(xx_toks)[0]})
    for en, xx in sorted(words):
        rows.append({"type": "word", "en": en, lang: xx, "alignment": "0-0", "en_text": en,
                     "text": xx})
    return rows


def _write_table(path: Path, header: list[str], rows: list[dict[str, str]],
                 delimiter: str = "\t") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, delimiter=delimiter, lineterminator="\n",
                                quoting=csv.QUOTE_MINIMAL)
        writer.writeheader()
        writer.writerows(rows)


def generate(out_dir: Path, cfg: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write mini-XTREME under `out_dir` and return its manifest (also written as manifest.json).

    Files: languages.csv, every task/split/language through
    `xstilts.data.layout.write_canonical` (xtreme_dir layout for targets, hub-schema JSONL for
    intermediate tasks, mlm/<lang>.txt), parallel/<lang>.tsv, manifest.json (config, seed and
    the sha256 of every other file).
    """
    from xstilts.data.layout import write_canonical  # noqa: PLC0415 (heavy: imports datasets)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cfg = resolve_config(cfg)
    counts: dict[str, int] = {}
    for task, split, lang, records in generate_records(cfg):
        write_canonical(task, split, lang, records, out_dir,
                        labels=list(CCG_TAGS) if task == "ccg" else None)
        n = len(records["gold"]) if isinstance(records, dict) else len(records)
        counts[f"{task}/{split}/{lang}"] = n
    _write_table(out_dir / "languages.csv", list(LANGUAGE_COLUMNS), language_rows(cfg), ",")
    bench = Benchmark(cfg)
    texts = random_declaratives(bench.world, int(cfg["parallel"]), bench.rng("parallel"))
    for lang in bench.codes:
        if lang != "en":
            header = ["type", "en", lang, "alignment", "en_text", "text"]
            _write_table(out_dir / "parallel" / f"{lang}.tsv", header,
                       parallel_rows(bench, lang, texts))
    files = {p.relative_to(out_dir).as_posix(): sha256(p)
             for p in sorted(out_dir.rglob("*")) if p.is_file() and p.name != "manifest.json"}
    manifest = {"generator": "xstilts.data.synthetic", "format_version": 1, "seed": cfg["seed"],
                "config": cfg, "languages": bench.codes, "counts": counts, "files": files,
                "train_languages": {t: multilingual_train_languages(cfg)
                                    for t in MULTILINGUAL_INTERMEDIATE}}
    (out_dir / "manifest.json").write_text(
        json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False) + "\n", "utf-8")
    return manifest
