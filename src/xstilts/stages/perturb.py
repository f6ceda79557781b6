"""Stage: perturbed copies of one target's test sets (robustness evaluation).

spec = {"target", "benchmark": {"source", "path", "ccg_path", "eval_split"?, "gold_path"?}
(the perturbed "test" sets are made from the split evaluate reports), "tasks" (optional registry
overrides), "operations": [op], "severities": [float], "seed": int, "tokenizer": local dir or
null (needed by "subword"), "max_examples": int or null (the first N test examples per
language; retrieval splits are kept whole), "dictionaries": {lang: tsv path} or a path with
"{lang}" (optional; code-switching on real data), "languages": optional subset, "out": folder}.
Other keys (threads, tokenizer_model) are ignored.

It writes `<out>/clean/` (the unperturbed examples every set was made from: with max_examples,
score the clean baseline on this, not on the full test set), then `<out>/<op>-<severity>/` for
every (op, severity) (the test split of every language where the op is applicable), each in the
layout `load_split` reads through `perturbed_source`, and last `<out>/manifest.json`:
{"target", "seed", "operations", "severities", "max_examples",
 "clean": {"path", "languages", "examples": {lang: n}},
 "sets": [{"op", "severity", "path", "languages", "stats": {lang: {units_changed,
 units_eligible, examples_changed, examples, effective_rate}}}],
 "skipped": [{"op", "lang", "reason"}]}.
Paths are `<out>/...` exactly as `out` was given (relative paths stay relative to the same
working directory)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from xstilts.data.languages import languages_of
from xstilts.grid.config import ConfigError
from xstilts.perturb import OPERATIONS, PerturbContext, applicable, perturb_records
from xstilts.stages.common import atomic_dir, log, source_of, task_of, write_json
from xstilts.tasks.registry import TaskSpec


def set_name(op: str, severity: float) -> str:
    """Folder name of one perturbed set, e.g. 'char-0.1'."""
    return f"{op}-{float(severity):g}"


def perturbed_source(set_path: str | Path, base_source: dict[str, Any]) -> dict[str, Any]:
    """The `load_split` source of a perturbed set (its test splits only).

    A set is written with `xstilts.data.layout.write_canonical`, i.e. in mini-XTREME's layout,
    whatever the base source was (hub, xtreme_dir or synthetic).
    """
    if base_source.get("kind") not in ("hub", "xtreme_dir", "synthetic"):
        raise ValueError(f"base data source kind {base_source.get('kind')!r} is unknown")
    return {"kind": "synthetic", "path": str(set_path), "ccg_path": None}


def _texts(records: Any, fmt: str) -> list[str]:
    """The language's own text in a split (alphabet fallback when there is no MLM text)."""
    if fmt == "retrieval":
        return [str(r["text"]) for r in records["source"]]
    fields = {"classification": ("text_a", "text_b"), "qa": ("question", "context"),
              "multiple_choice": ("context", "question")}.get(fmt, ())
    out = [str(r[f]) for r in records for f in fields]
    if fmt == "tagging":
        out = [" ".join(r["tokens"]) for r in records]
    if fmt == "multiple_choice":
        out += [str(c) for r in records for c in r["choices"]]
    return out


def _dictionary(spec: dict, lang: str) -> str | None:
    given = spec.get("dictionaries")
    if not given:
        return None
    if isinstance(given, dict):
        return given.get(lang)
    path = str(given).format(lang=lang)
    return path if Path(path).is_file() else None


def _size(records: Any, fmt: str) -> int:
    return len(records["source"]) if fmt == "retrieval" else len(records)


def _records(ds: Any) -> Any:
    if hasattr(ds, "to_list"):
        return ds.to_list()
    return {k: ds[k].to_list() for k in ds}


def _check_spec(spec: dict) -> tuple[list[str], list[float]]:
    """Operations and severities of a valid spec; ConfigError (a ValueError) naming the key."""
    ops = list(spec.get("operations") or [])
    unknown = [op for op in ops if op not in OPERATIONS]
    if not ops or unknown:
        raise ConfigError(f"perturb spec 'operations': unknown or none {unknown or ops}; "
                         f"known: {list(OPERATIONS)}")
    sev = [float(s) for s in spec.get("severities") or []]
    if not sev or any(not 0.0 <= s <= 1.0 for s in sev):
        raise ConfigError(f"perturb spec 'severities' must be floats in [0, 1], got {sev}")
    if not isinstance(spec.get("seed"), int):
        raise ConfigError(f"perturb spec 'seed' must be an integer, got {spec.get('seed')!r}")
    if "subword" in ops and not spec.get("tokenizer"):
        raise ConfigError("perturb spec: operation 'subword' needs 'tokenizer' (a local folder)")
    if "subword" in ops and not Path(spec["tokenizer"]).is_dir():
        raise ConfigError(f"perturb spec 'tokenizer': {spec['tokenizer']} is not a folder")
    limit = spec.get("max_examples")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise ConfigError(f"perturb spec 'max_examples' must be a positive integer or null, "
                          f"got {limit!r}")
    return list(dict.fromkeys(ops)), list(dict.fromkeys(sev))


def _first(records: Any, fmt: str, limit: int | None) -> Any:
    """The first `limit` examples (retrieval splits are kept whole: their sides pair up)."""
    if limit is None or fmt == "retrieval":
        return records
    return records[:limit]


def _languages(task: TaskSpec, source: dict, spec: dict) -> list[str]:
    langs = list(spec.get("languages") or languages_of(task, source))
    return [x for x in langs if not (task.format == "retrieval" and x == "en")]


def run(spec: dict) -> dict:
    """Write every perturbed set of `spec["target"]`, then the manifest; return the manifest."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    from xstilts.data.layout import write_canonical
    from xstilts.data.load import load_reported, task_labels
    from xstilts.data.withheld import reported_split

    ops, severities = _check_spec(spec)
    source = source_of(spec)
    task = task_of(spec, spec["target"])
    out = Path(spec["out"])
    (out / "manifest.json").unlink(missing_ok=True)
    seed = int(spec["seed"])
    labels = task_labels(task, source)
    tokenizer = spec.get("tokenizer") if "subword" in ops else None
    data, contexts = {}, {}
    choice = reported_split(spec["benchmark"], task.name)  # the split evaluate reports
    for lang in _languages(task, source, spec):
        data[lang] = _first(_records(load_reported(task, lang, source, choice)[0]), task.format,
                            spec.get("max_examples"))
        contexts[lang] = PerturbContext.build(lang, source, tokenizer,
                                              texts=_texts(data[lang], task.format),
                                              dictionary=_dictionary(spec, lang))
    table = Path(source["path"]) / "languages.csv" if source.get("path") else None

    def write_set(name: str, sets_of: dict[str, Any]) -> None:
        with atomic_dir(out / name) as tmp:
            for lang, records in sets_of.items():
                write_canonical(task, "test", lang, records, tmp, labels=labels)
            if table is not None and table.is_file():
                shutil.copyfile(table, tmp / "languages.csv")

    write_set("clean", data)
    clean = {"path": str(out / "clean"), "languages": list(data),
             "examples": {x: _size(r, task.format) for x, r in data.items()}}
    sets, skipped = [], []
    for op in ops:
        langs = [x for x in data if applicable(op, contexts[x], task.format)]
        skipped += [{"op": op, "lang": x, "reason": _why_not(op, contexts[x], task.format)}
                    for x in data if x not in langs]
        if not langs:
            log.info("perturb %s: %s applies to no language", task.name, op)
            continue
        for severity in severities:
            name = set_name(op, severity)
            stats, perturbed = {}, {}
            for lang in langs:
                perturbed[lang], tally = perturb_records(data[lang], task.format, op, severity,
                                                         contexts[lang], (seed, task.name, lang))
                rate = tally.units_changed / tally.units_eligible if tally.units_eligible else 0.0
                stats[lang] = {**tally.as_dict(), "effective_rate": round(rate, 6)}
            write_set(name, perturbed)
            sets.append({"op": op, "severity": float(severity), "path": str(out / name),
                         "languages": langs, "stats": stats})
            log.info("perturb %s %s: %s", task.name, name,
                     {x: s["effective_rate"] for x, s in stats.items()})
    manifest = {"target": task.name, "seed": seed, "operations": ops,
                "severities": severities, "max_examples": spec.get("max_examples"),
                "clean": clean, "sets": sets, "skipped": skipped}
    write_json(out / "manifest.json", manifest)
    return manifest


def _why_not(op: str, ctx: PerturbContext, fmt: str) -> str:
    if op == "whitespace":
        return "token lists keep their words" if fmt == "tagging" else "no spaces in the script"
    if op == "diacritics":
        return f"no optional accents in {ctx.script}"
    if op == "subword":
        return f"no {ctx.script} pieces in the tokenizer"
    if op == "code_switch":
        return "English" if ctx.lang == "en" else "no dictionary"
    return "no alphabet"
