"""Reading raw data files with one clear `DataError` line (file, line, what is wrong) for
anything malformed: missing files, folders, unreadable or undecodable bytes, byte-order marks
(stripped), stray quotes and oversized fields in TSV files."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from xstilts.data._readlog import note
from xstilts.data.schema import DataError


def read_bytes(path: Path) -> bytes:
    """A file's bytes; DataError naming the file when it is missing, a folder or unreadable."""
    note(path)
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, not a file") from None
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror or err})") from None


def read_text(path: Path) -> str:
    """UTF-8 text of a file without a byte-order mark; DataError naming the file and line on
    undecodable bytes."""
    raw = read_bytes(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise DataError(f"{path}: line {line}: invalid UTF-8 ({err.reason})") from None
    return text[1:] if text.startswith("\ufeff") else text


def tsv_rows(path: Path) -> list[tuple[int, list[str]]]:
    """(first line number, cells) of each row of a csv-module TSV file, as xtreme's
    `csv.writer(delimiter='\\t')` writes them (quoted fields); DataError naming the file and
    line for a stray quote, a field spanning lines or a field over the csv module's limit."""
    reader = csv.reader(io.StringIO(read_text(path), newline=""), delimiter="\t", strict=True)
    rows = []
    start = 1
    try:
        for cells in reader:
            if any("\n" in c or "\r" in c for c in cells):
                raise DataError(f"{path}: lines {start}-{reader.line_num}: a quoted field runs "
                                "over several lines (a stray '\"' at the start of a field?)")
            rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as err:
        if "field limit" in str(err):
            raise DataError(f"{path}: line {start}: a field is longer than "
                            f"{csv.field_size_limit()} characters") from None
        lines = f"line {start}" if reader.line_num <= start else \
            f"lines {start}-{reader.line_num}"
        raise DataError(f"{path}: {lines}: malformed TSV ({err}); a stray '\"'?") from None
    return rows


def drop_blank_answers(answers: dict[str, list]) -> dict[str, list]:
    """Blank answers dropped when a real one exists; all-blank lists (withheld gold) kept."""
    pairs = [(t, s) for t, s in zip(answers["text"], answers["answer_start"], strict=True)]
    pairs = [(t, s) for t, s in pairs if t != ""] or pairs
    return {"text": [t for t, _ in pairs], "answer_start": [s for _, s in pairs]}


def answer_offset(start: object, label: str) -> int:
    """`start` as an answer offset: a non-negative integer (not a bool, text or null), else a
    DataError "<label> <value> is not a non-negative integer"."""
    if isinstance(start, bool) or not isinstance(start, int) or start < 0:
        raise DataError(f"{label} {json.dumps(start)[:40]} is not a non-negative integer")
    return start
