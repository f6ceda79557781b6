"""Predictions and labels in XTREME's submission layout: `<dir>/<task>/test-<lang>.<tsv|json>`.

One file per task and language, in the format of google-research/xtreme's mock submission:

| kind | tasks | file |
| --- | --- | --- |
| label | classification (XNLI, PAWS-X) | one label per line |
| index | Tatoeba (and multiple choice) | one integer per line |
| tag | tagging (UD-POS, PAN-X) | one tag per line, a blank line between sentences |
| qa | XQuAD, MLQA, TyDiQA | predictions: JSON {id: answer text}; labels: SQuAD v1.1 JSON |
| pairs | BUCC | `src_id<TAB>tgt_id` per line |

In-memory values: list[str] (label), list[int] (index), list[list[str]] (tag),
dict[str, str] / SQuAD dict (qa), list[tuple[str, str]] (pairs). Writes are atomic.
"""

from __future__ import annotations

import json
import operator
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from xstilts.data.schema import DataError
from xstilts.io.atomic import write_atomic
from xstilts.metrics.qa import iter_questions, records_to_squad
from xstilts.tasks.registry import TaskSpec, get_task

Kind = Literal["label", "index", "tag", "qa", "pairs"]
Role = Literal["predictions", "labels"]
KINDS: tuple[str, ...] = ("label", "index", "tag", "qa", "pairs")


def _spec(task: str | TaskSpec) -> TaskSpec:
    return task if isinstance(task, TaskSpec) else get_task(task)


def submission_kind(task: str | TaskSpec) -> Kind:
    """The file kind of `task` (see the module docstring)."""
    spec = _spec(task)
    if spec.format == "classification":
        return "label"
    if spec.format == "multiple_choice":
        return "index"
    if spec.format == "tagging":
        return "tag"
    if spec.format == "qa":
        return "qa"
    if spec.format == "retrieval":
        return "pairs" if spec.metric == "bucc_f1" else "index"
    raise ValueError(f"task '{spec.name}' (format {spec.format}) has no submission file format")


def submission_path(task: str | TaskSpec, lang: str, root: str | os.PathLike[str]) -> Path:
    """`<root>/<task>/test-<lang>.json` for QA tasks, `.tsv` otherwise."""
    spec = _spec(task)
    suffix = "json" if submission_kind(spec) == "qa" else "tsv"
    return Path(root) / spec.name / f"test-{lang}.{suffix}"


# ------------------------------------------------------------------ writing
def _atomic_write_text(path: Path, text: str) -> None:
    write_atomic(path, text)


def _field(value: Any, where: str, *, allow_tab: bool = True) -> str:
    """A value as it will be written on one line; rejects what would not read back equal."""
    text = str(value)
    bad = "\n\r" if allow_tab else "\n\r\t"
    if not text or text != text.strip() or any(c in text for c in bad):
        raise ValueError(
            f"{where}: {text!r} cannot be written on one line (empty, surrounding whitespace, "
            "or a line break/tab)"
        )
    return text


def _lines_text(lines: Sequence[str]) -> str:
    return "".join(line + "\n" for line in lines)


def _format(kind: Kind, role: Role, values: Any, where: str) -> str:
    if kind == "label":
        return _lines_text([_field(v, f"{where} item {i}") for i, v in enumerate(values)])
    if kind == "index":
        out = []
        for i, v in enumerate(values):
            try:
                out.append(str(operator.index(v)))
            except TypeError:
                raise ValueError(f"{where} item {i}: {v!r} is not an integer") from None
        return _lines_text(out)
    if kind == "tag":
        blocks = []
        for i, sentence in enumerate(values):
            if isinstance(sentence, str) or len(sentence) == 0:
                raise ValueError(f"{where} sentence {i}: must be a non-empty list of tags")
            tags = [_field(t, f"{where} sentence {i} tag {j}") for j, t in enumerate(sentence)]
            blocks.append(_lines_text(tags))
        return "\n".join(blocks)
    if kind == "pairs":
        rows = []
        for i, pair in enumerate(values):
            if isinstance(pair, str) or len(pair) != 2:
                raise ValueError(f"{where} item {i}: {pair!r} is not a (src_id, tgt_id) pair")
            src, tgt = (_field(x, f"{where} item {i}", allow_tab=False) for x in pair)
            rows.append(f"{src}\t{tgt}")
        return _lines_text(rows)
    if kind == "qa":
        data = _qa_predictions(values, where) if role == "predictions" else _squad_dict(values)
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    raise ValueError(f"unknown submission kind '{kind}'")


def _qa_predictions(values: Any, where: str) -> dict[str, str]:
    if not isinstance(values, Mapping):
        raise ValueError(f"{where}: QA predictions must be a mapping {{id: answer text}}")
    for key, value in values.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ValueError(f"{where}: QA prediction {key!r} -> {value!r} is not str -> str")
    return dict(values)


def _squad_dict(values: Any) -> dict[str, Any]:
    """A SQuAD dict, a list of SQuAD articles, or canonical QA records -> a SQuAD dict."""
    if isinstance(values, Mapping):
        data = dict(values)
    else:
        items = list(values)
        if items and isinstance(items[0], Mapping) and "paragraphs" in items[0]:
            data = {"version": "1.1", "data": items}
        else:
            data = records_to_squad(items)
    for _ in iter_questions(data):  # validate
        pass
    return data


def _write(task: str | TaskSpec, lang: str, values: Any, out_dir: Any, role: Role) -> Path:
    spec = _spec(task)
    path = submission_path(spec, lang, out_dir)
    text = _format(submission_kind(spec), role, values, f"{role} for {spec.name}/{lang}")
    _atomic_write_text(path, text)
    return path


def write_predictions(
    task: str | TaskSpec, lang: str, predictions: Any, out_dir: str | os.PathLike[str]
) -> Path:
    """Write one language's predictions of `task` under `out_dir`; returns the file path."""
    return _write(task, lang, predictions, out_dir, "predictions")


def write_labels(
    task: str | TaskSpec, lang: str, labels: Any, out_dir: str | os.PathLike[str]
) -> Path:
    """Write one language's gold labels of `task` under `out_dir`; returns the file path.

    QA labels may be a SQuAD dict, a list of SQuAD articles or canonical QA records.
    """
    return _write(task, lang, labels, out_dir, "labels")


# ------------------------------------------------------------------ reading
def _read_lines(path: Path) -> list[str]:
    try:
        with open(path, encoding="utf-8") as f:
            return [line.strip() for line in f]
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not valid UTF-8 ({err})") from None


def _non_blank(path: Path, lines: Iterable[str]) -> list[tuple[int, str]]:
    out = []
    for n, line in enumerate(lines, start=1):
        if not line:
            raise DataError(f"{path}, line {n}: empty line")
        out.append((n, line))
    return out


def _parse_tags(lines: list[str]) -> list[list[str]]:
    """evaluate.py's read_tag: a blank line ends a sentence (so two in a row give an empty one)."""
    sentences: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if line:
            current.append(line)
        else:
            sentences.append(current)
            current = []
    if current:
        sentences.append(current)
    return sentences


def _parse_index(path: Path, lines: list[str]) -> list[int]:
    out = []
    for n, line in _non_blank(path, lines):
        try:
            out.append(int(line))
        except ValueError:
            raise DataError(f"{path}, line {n}: {line!r} is not an integer index") from None
    return out


def _parse_pairs(path: Path, lines: list[str]) -> list[tuple[str, str]]:
    out = []
    for n, line in _non_blank(path, lines):
        fields = line.split("\t")
        if len(fields) != 2 or not all(fields):
            raise DataError(
                f"{path}, line {n}: expected 'src_id<TAB>tgt_id', got {len(fields)} field(s)"
            )
        out.append((fields[0], fields[1]))
    return out


def _read_json(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except json.JSONDecodeError as err:
        raise DataError(f"{path}, line {err.lineno} column {err.colno}: bad JSON ({err.msg})") \
            from None
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not valid UTF-8 ({err})") from None


def read_submission_file(path: str | os.PathLike[str], kind: Kind, role: Role) -> Any:
    """Read one submission file of `kind` ('predictions' or 'labels' decides the QA format)."""
    path = Path(path)
    if kind == "qa":
        data = _read_json(path)
        if role == "predictions":
            if not isinstance(data, dict):
                raise DataError(f"{path}: QA predictions must be a JSON object {{id: answer}}")
            for key, value in data.items():
                if not isinstance(value, str):
                    raise DataError(f"{path}: key {key!r}: answer must be a string, got {value!r}")
            return data
        if isinstance(data, list):
            data = {"data": data}
        if not isinstance(data, dict) or "data" not in data:
            raise DataError(f"{path}: SQuAD labels must be a JSON object with a 'data' list")
        try:
            for _ in iter_questions(data):
                pass
        except ValueError as err:
            raise DataError(f"{path}: {err}") from None
        return data
    lines = _read_lines(path)
    if kind == "label":
        return [line for _, line in _non_blank(path, lines)]
    if kind == "index":
        return _parse_index(path, lines)
    if kind == "tag":
        return _parse_tags(lines)
    if kind == "pairs":
        return _parse_pairs(path, lines)
    raise ValueError(f"unknown submission kind '{kind}'")


def read_predictions(task: str | TaskSpec, lang: str, root: str | os.PathLike[str]) -> Any:
    """Read one language's predictions of `task` from the submission folder `root`."""
    spec = _spec(task)
    return read_submission_file(submission_path(spec, lang, root), submission_kind(spec),
                                "predictions")


def read_labels(task: str | TaskSpec, lang: str, root: str | os.PathLike[str]) -> Any:
    """Read one language's gold labels of `task` from the labels folder `root`."""
    spec = _spec(task)
    return read_submission_file(submission_path(spec, lang, root), submission_kind(spec), "labels")
