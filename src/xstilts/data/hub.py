"""Hugging Face hub adapter: `datasets.load_dataset` + a declarative column mapping.

The mapping lives in tasks.yaml under `sources: {hub: {...}}`::

    hub:
      lang_names: {en: English, ...}   # optional; fills the {lang_name} placeholder
      parts:                           # concatenated in order (e.g. ANLI + SNLI + MNLI)
        - path: facebook/anli          # dataset id ({lang}/{lang_name} placeholders allowed)
          name: plain_text             # config name (placeholders allowed); optional
          splits: {train: [train_r1, train_r2], validation: [dev_r1]}   # default {s: [s]}
          columns: {id: uid, text_a: premise, text_b: hypothesis, label: label}
          label_names: [entailment, neutral, contradiction]  # hub ClassLabel names (int labels)
          label_map: {contradictory: contradiction}          # hub name -> canonical name
          label_type: int              # multiple choice: label stored as a string ("2")
          label_index_in: choices.label  # multiple choice: label is a key found in this list
          choices: [answer0, answer1]  # multiple choice: list of columns, or a (dotted) field
          drop_labels: [-1]            # raw label values whose rows are dropped
          defaults: {title: ""}        # canonical fields absent from the hub data
          filter: {column: id, prefix: "{lang_name}-"}  # keep rows whose column has the prefix
          id_prefix: "snli-"           # prepended to ids (keeps concatenated ids unique)

The first part's mapping is also applied to local JSON-lines files in the hub's column names
(`<root>/hub/<task>/<split>.jsonl`, translated copies `<split>-<lang>.jsonl`), which is how
mini-XTREME ships its intermediate tasks; `from_canonical` is the inverse used to write them.
Canonical records produced here are plain dicts; labels are names (classification, tagging) or
-1 for "no label"; `xstilts.data.load` validates them and builds the Dataset.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import datasets

from xstilts.data._readlog import note
from xstilts.data.files import answer_offset, drop_blank_answers, read_bytes
from xstilts.data.schema import DataError
from xstilts.tasks.registry import TaskSpec

Rows = list[dict[str, Any]]
_MISSING = object()


def descriptor(task: TaskSpec) -> dict[str, Any]:
    """The task's `sources.hub` entry (raises DataError when absent or malformed)."""
    desc = task.sources.get("hub")
    if not isinstance(desc, dict) or not isinstance(desc.get("parts"), list) or not desc["parts"]:
        raise DataError(f"task '{task.name}': tasks.yaml has no usable 'sources.hub.parts' entry")
    return desc


def _fill(template: str | None, lang: str, desc: dict[str, Any]) -> str | None:
    if template is None:
        return None
    names = desc.get("lang_names") or {}
    lang_name = names.get(lang, lang)
    return str(template).format(lang=lang, lang_name=lang_name)


def hub_splits(part: dict[str, Any], split: str) -> list[str]:
    """Hub split names that make up canonical `split` for this part ([] = part not used)."""
    splits = part.get("splits")
    if splits is None:
        return [split]
    value = splits.get(split, [])
    return [value] if isinstance(value, str) else list(value)


# ---------------------------------------------------------------- field access


def _get(row: dict[str, Any], field: str, where: str) -> Any:
    """Value of a (dotted) field of a row; DataError naming `where` and the column if absent."""
    value: Any = row
    for key in field.split("."):
        if not isinstance(value, dict) or key not in value:
            raise DataError(f"{where}: missing column '{field}'")
        value = value[key]
    return value


def _set(row: dict[str, Any], field: str, value: Any) -> None:
    keys = field.split(".")
    for key in keys[:-1]:
        row = row.setdefault(key, {})
    row[keys[-1]] = value


# ---------------------------------------------------------------- hub rows -> canonical


def _label_to_name(raw: Any, part: dict[str, Any], where: str) -> str | int:
    """Raw hub label -> canonical label name, or -1 for a missing label."""
    names = part.get("label_names")
    if isinstance(raw, bool):
        raise DataError(f"{where}: column 'label' holds a boolean {raw!r}")
    if isinstance(raw, int):
        if raw == -1:
            return -1
        if not names or not 0 <= raw < len(names):
            raise DataError(f"{where}: column 'label' value {raw} outside the hub labels {names}")
        raw = names[raw]
    if raw is None or raw == "":
        return -1
    mapped = (part.get("label_map") or {}).get(str(raw), str(raw))
    return str(mapped)


def _mc_label(raw: Any, row: dict[str, Any], part: dict[str, Any], where: str) -> int:
    if raw is None or raw == "":
        return -1
    keys_field = part.get("label_index_in")
    if keys_field:
        keys = [str(k) for k in _get(row, keys_field, where)]
        if str(raw) not in keys:
            raise DataError(f"{where}: column 'label' value {raw!r} not among {keys_field} {keys}")
        return keys.index(str(raw))
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise DataError(f"{where}: column 'label' value {raw!r} is not an integer") from None


def _choices(row: dict[str, Any], part: dict[str, Any], where: str) -> list[str]:
    spec = part.get("choices")
    if isinstance(spec, list):
        return [_text(_get(row, col, where), f"{where}: column '{col}'") for col in spec]
    if isinstance(spec, str):
        value = _get(row, spec, where)
        if not isinstance(value, list):
            raise DataError(f"{where}: column '{spec}' is not a list of choices")
        return [_text(v, f"{where}: column '{spec}'") for v in value]
    raise DataError(f"{where}: hub mapping needs 'choices' (list of columns or a field)")


def row_to_canonical(
    task: TaskSpec, row: dict[str, Any], part: dict[str, Any], index: int, where: str
) -> dict[str, Any] | None:
    """One hub-schema row -> one canonical record (None when the row is dropped)."""
    cols = dict(part.get("columns") or {})
    defaults = dict(part.get("defaults") or {})
    where = f"{where}, row {index}"

    def col(field: str) -> Any:
        if field in cols:
            return _get(row, cols[field], where)
        if field in defaults:
            return defaults[field]
        raise DataError(f"{where}: hub mapping has no column for canonical field '{field}'")

    def text(field: str) -> str:
        return _text(col(field), f"{where}: column '{cols.get(field, field)}'")

    if "label" in cols and "drop_labels" in part:
        raw = _get(row, cols["label"], where)
        if raw in part["drop_labels"]:
            return None
    id_col = cols.get("id")
    rid = str(_get(row, id_col, where)) if id_col else str(index)
    rec: dict[str, Any] = {"id": str(part.get("id_prefix", "")) + rid}
    fmt = task.format
    if fmt == "classification":
        rec["text_a"] = text("text_a")
        rec["text_b"] = text("text_b") if ("text_b" in cols or "text_b" in defaults) else ""
        rec["label"] = _label_to_name(col("label"), part, where)
    elif fmt == "multiple_choice":
        rec["context"] = text("context")
        rec["question"] = text("question")
        rec["choices"] = _choices(row, part, where)
        rec["label"] = _mc_label(col("label"), row, part, where)
    elif fmt == "qa":
        rec["title"] = str(col("title") or "")
        for field in ("context", "question"):
            rec[field] = text(field)
        answers = _answers(col("answers"), where)
        # the hub's loading scripts strip() contexts but keep answer_start: re-locate
        starts = [relocate(rec["context"], t, s)
                  for t, s in zip(answers["text"], answers["answer_start"], strict=True)]
        rec["answers"] = {"text": answers["text"], "answer_start": starts}
    elif fmt == "tagging":
        tokens = [_text(t, f"{where}: a token") for t in _list(col("tokens"), where)]
        tags = [_label_to_name(t, part, where) for t in _list(col("tags"), where)]
        if len(tags) != len(tokens):
            raise DataError(f"{where}: {len(tokens)} tokens but {len(tags)} tags")
        rec["tokens"], rec["tags"] = tokens, tags
    elif fmt == "mlm":
        rec["lang"] = str(col("lang"))
        rec["text"] = text("text")
    elif fmt == "retrieval":
        rec["source"] = text("source")
        rec["target"] = text("target")
    else:
        raise DataError(f"task '{task.name}': format '{fmt}' has no hub mapping")
    return rec


def _text(value: Any, where: str) -> str:
    """A text field: strings (and numbers) as text; null, lists, mappings and booleans are
    errors (str() would turn a null into the text "None")."""
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, bool | dict | list):
        raise DataError(f"{where} is {json.dumps(value)[:40]}, not a text")
    return str(value)


def _list(value: Any, where: str) -> list:
    if not isinstance(value, list | tuple):
        raise DataError(f"{where}: expected a list, got {json.dumps(value, default=str)[:40]}")
    return list(value)


def _answers(answers: Any, where: str) -> dict[str, list]:
    """Hub `answers` ({text: [..], answer_start: [..]}) -> canonical; blank texts dropped when
    a real answer exists, kept when all are blank (withheld gold, refused by `withheld`)."""
    if not isinstance(answers, dict) or not isinstance(answers.get("text"), list | tuple) \
            or not isinstance(answers.get("answer_start"), list | tuple) \
            or len(answers["text"]) != len(answers["answer_start"]):
        raise DataError(f"{where}: column 'answers' must hold equally long {{text, "
                        f"answer_start}} lists, got {json.dumps(answers, default=str)[:60]}")
    out: dict[str, list] = {"text": [], "answer_start": []}
    for k, (text, start) in enumerate(zip(answers["text"], answers["answer_start"],
                                          strict=True)):
        text = _text(text, f"{where}: answers.text[{k}]")
        out["text"].append(text)
        out["answer_start"].append(answer_offset(start, f"{where}: answers.answer_start[{k}]"))
    return drop_blank_answers(out)


def relocate(context: str, text: str, start: int) -> int:
    """The offset of answer `text` in `context`: `start` when it is there, else the nearest
    occurrence (the hub's XTREME/XQuAD loading scripts `.strip()` contexts and answer texts but
    keep `answer_start`, shifting answers by the stripped leading whitespace)."""
    if not text or context[start:start + len(text)] == text:
        return start
    found, at = [], context.find(text)
    while at != -1:
        found.append(at)
        at = context.find(text, at + 1)
    return min(found, key=lambda p: (abs(p - start), p)) if found else start


def _keep(row: dict[str, Any], part: dict[str, Any], lang: str, desc: dict[str, Any],
          where: str) -> bool:
    flt = part.get("filter")
    if not flt:
        return True
    value = str(_get(row, flt["column"], where))
    return value.startswith(_fill(flt.get("prefix", ""), lang, desc) or "")


def rows_to_canonical(task: TaskSpec, rows: Any, part: dict[str, Any], lang: str,
                      desc: dict[str, Any], where: str) -> Rows:
    """Map an iterable of hub-schema rows (dicts) to canonical records."""
    out: Rows = []
    for i, row in enumerate(rows):
        if not _keep(row, part, lang, desc, f"{where}, row {i}"):
            continue
        rec = row_to_canonical(task, row, part, i, where)
        if rec is not None:
            out.append(rec)
    return out


# ---------------------------------------------------------------- canonical -> hub rows


def _label_to_raw(label: Any, part: dict[str, Any], task_labels: list[str]) -> Any:
    """Canonical label (name or id) -> the hub's raw label value."""
    if isinstance(label, int) and not isinstance(label, bool):
        if label == -1:
            return -1 if part.get("label_names") else ""
        label = task_labels[label]
    inverse = {v: k for k, v in (part.get("label_map") or {}).items()}
    raw = inverse.get(str(label), str(label))
    names = part.get("label_names")
    if names:
        if raw not in names:
            raise DataError(f"label {raw!r} not among the hub labels {names}")
        return names.index(raw)
    return raw


def from_canonical(task: TaskSpec, records: Rows, part: dict[str, Any],
                   labels: list[str] | None = None) -> Rows:
    """Canonical records -> rows in the hub's column names (inverse of `row_to_canonical`)."""
    cols = dict(part.get("columns") or {})
    task_labels = list(labels if labels is not None else task.labels)
    out: Rows = []
    for rec in records:
        row: dict[str, Any] = {}
        for field, column in cols.items():
            if field in ("label", "tags", "id"):
                continue
            if field in rec:
                _set(row, column, rec[field])
        if "id" in cols:
            rid = str(rec["id"])
            prefix = str(part.get("id_prefix", ""))
            rid = rid[len(prefix):] if prefix and rid.startswith(prefix) else rid
            # int id columns (GLUE idx, HellaSwag ind) keep non-numeric ids as strings
            _set(row, cols["id"], int(rid) if _is_int_id(part) and rid.isdigit() else rid)
        fmt = task.format
        if fmt == "classification":
            if "text_b" not in cols and str(rec.get("text_b") or ""):
                raise DataError(f"task '{task.name}' is single-sentence (its hub mapping has no "
                                f"text_b column): record id={rec.get('id')!r} has text_b "
                                f"{rec['text_b']!r}")
            _set(row, cols["label"], _label_to_raw(rec["label"], part, task_labels))
        elif fmt == "tagging":
            _set(row, cols["tags"], [_label_to_raw(t, part, task_labels) for t in rec["tags"]])
        elif fmt == "multiple_choice":
            _write_choices(row, rec, part, cols)
        out.append(row)
    return out


def _is_int_id(part: dict[str, Any]) -> bool:
    return part.get("id_type") == "int"


def _write_choices(row: dict[str, Any], rec: dict[str, Any], part: dict[str, Any],
                   cols: dict[str, str]) -> None:
    spec = part.get("choices")
    choices = list(rec["choices"])
    if isinstance(spec, list):
        for column, choice in zip(spec, choices, strict=True):
            _set(row, column, choice)
    else:
        _set(row, spec, choices)
    label = int(rec["label"])
    keys_field = part.get("label_index_in")
    if keys_field:
        keys = [chr(ord("A") + i) for i in range(len(choices))]
        _set(row, keys_field, keys)
        _set(row, cols["label"], keys[label] if label >= 0 else "")
    elif part.get("label_type") == "str":
        _set(row, cols["label"], str(label) if label >= 0 else "")
    else:
        _set(row, cols["label"], label)


# ---------------------------------------------------------------- JSON lines


def read_jsonl(path: Path) -> Rows:
    """Read a JSON-lines file; DataError naming the file and line on bad bytes or JSON."""
    raw = read_bytes(path)
    raw = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw  # a byte-order mark
    rows: Rows = []
    for lineno, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as err:
            raise DataError(f"{path}: line {lineno}: invalid UTF-8 ({err.reason} at byte "
                            f"{err.start})") from None
        try:
            row = json.loads(text)
        except json.JSONDecodeError as err:
            raise DataError(f"{path}: line {lineno}: invalid JSON ({err.msg}, column "
                            f"{err.colno})") from None
        if not isinstance(row, dict):
            raise DataError(f"{path}: line {lineno}: expected a JSON object")
        rows.append(row)
    return rows


def write_jsonl(path: Path, rows: Rows) -> Path:
    """Write rows as JSON lines with sorted keys and '\\n' newlines (deterministic bytes)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in rows)
    path.write_bytes(text.encode("utf-8"))
    return path


def read_parquet(path: Path) -> Rows:
    """Rows of a parquet file; DataError naming the file when it is truncated or invalid."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    note(path)
    try:
        return pq.read_table(path).to_pylist()
    except (pa.ArrowException, OSError) as err:
        raise DataError(f"{path}: invalid or truncated parquet ({err})") from None


def local_path(root: Path, task: str, split: str, lang: str, ext: str = "jsonl") -> Path:
    """`<root>/hub/<task>/<split>.jsonl`, or `<split>-<lang>.jsonl` for translated copies."""
    suffix = "" if lang == "en" else f"-{lang}"
    return Path(root) / "hub" / task / f"{split}{suffix}.{ext}"


def load_local(task: TaskSpec, split: str, lang: str, root: Path) -> Rows:
    """Canonical records of a local hub-schema file (mapping of the first part).

    Reads `<split>[-<lang>].jsonl`, or `.parquet` (e.g. a hub download) when no JSONL exists.
    """
    desc = descriptor(task)
    path = local_path(root, task.name, split, lang)
    pq_path = local_path(root, task.name, split, lang, "parquet")
    note(pq_path)
    if not path.exists() and pq_path.exists():
        path, rows = pq_path, read_parquet(pq_path)
    else:
        rows = read_jsonl(path)
    records = rows_to_canonical(task, rows, desc["parts"][0], lang, desc, str(path))
    return pairs_to_retrieval(records) if task.format == "retrieval" else records


def write_local(task: TaskSpec, split: str, lang: str, records: Rows, root: Path,
                labels: list[str] | None = None) -> Path:
    """Write canonical records as hub-schema JSONL (inverse of `load_local`)."""
    part = descriptor(task)["parts"][0]
    rows = from_canonical(task, records, part, labels)
    return write_jsonl(local_path(root, task.name, split, lang), rows)


# ---------------------------------------------------------------- the hub itself


def _load_hub_split(path: str, name: str | None, hub_split: str, where: str) -> datasets.Dataset:
    try:
        return datasets.load_dataset(path, name, split=hub_split)
    except DataError:
        raise
    except Exception as err:  # datasets wraps arrow/json/network errors in many types
        raise DataError(f"{where}: could not load ({type(err).__name__}: {err})") from err


def load_hub(task: TaskSpec, split: str, lang: str) -> Rows:
    """Canonical records of `split` in `lang` from the hub (all parts, concatenated)."""
    desc = descriptor(task)
    records: Rows = []
    used = False
    for part in desc["parts"]:
        path = _fill(part["path"], lang, desc)
        name = _fill(part.get("name"), lang, desc)
        for hub_split in hub_splits(part, split):
            used = True
            where = f"hub dataset {path}" + (f" config {name}" if name else "")
            where += f" split {hub_split}"
            ds = _load_hub_split(path, name, hub_split, where)
            sub = dict(part)
            if "columns" in part and "id" not in part["columns"]:
                sub["id_prefix"] = f"{part.get('id_prefix', '')}{hub_split}-"
            records.extend(rows_to_canonical(task, ds, sub, lang, desc, where))
    if not used:
        raise DataError(f"task '{task.name}': sources.hub defines no hub split for '{split}'")
    return pairs_to_retrieval(records) if task.format == "retrieval" else records


def pairs_to_retrieval(records: Rows) -> dict[str, Rows]:
    """Aligned (source, target) rows -> {source, target, gold}; row i of each side pairs."""
    return {"source": [{"id": r["id"], "text": r["source"]} for r in records],
            "target": [{"id": r["id"], "text": r["target"]} for r in records],
            "gold": [{"source_id": r["id"], "target_id": r["id"]} for r in records]}
