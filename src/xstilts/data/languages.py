"""Language metadata: family and script of real languages, and the synthetic languages' table.

Real languages: the family is the broadest `fam` feature of lang2vec's offline URIEL data
(`family_features.npz`, read directly with numpy: lang2vec's own module imports pkg_resources,
which current setuptools no longer ships); a language URIEL knows but assigns no family is an
isolate (Basque). ISO 639-1 codes go through lang2vec's letter-code table, except
macrolanguages, which map to the individual language XTREME's data is in (zh -> cmn, ar -> arb,
fa -> pes, ms -> zsm, sw -> swh, et -> est). Names and likely scripts come from langcodes.

The family of every URIEL language is computed once (a few seconds) and cached as JSON under
$XSTILTS_CACHE or ~/.cache/xstilts.

Synthetic languages: the generator writes `<root>/languages.csv`; `read_language_table`
reads and validates it.
"""

from __future__ import annotations

import csv
import io
import json
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from xstilts.data.schema import DataError

UNKNOWN = "unknown"
ISOLATE = "Isolate"
MACRO_TO_URIEL: dict[str, str] = {
    "zh": "cmn", "ar": "arb", "fa": "pes", "ms": "zsm", "sw": "swh", "et": "est",
}
SYNTHETIC_COLUMNS: tuple[str, ...] = (
    "lang", "name", "family", "script", "word_order", "resource_level",
)


def _cache_file() -> Path:
    import os
    from importlib.metadata import version

    base = os.environ.get("XSTILTS_CACHE") or os.path.join(os.path.expanduser("~"), ".cache",
                                                           "xstilts")
    return Path(base) / f"uriel_families-lang2vec-{version('lang2vec')}.json"


def _compute_families() -> dict[str, str]:
    """Top-level family of every URIEL language ('' = in URIEL with no family: an isolate)."""
    with resources.files("lang2vec").joinpath("data", "family_features.npz").open("rb") as fh:
        npz = np.load(io.BytesIO(fh.read()))
        langs, feats, member = npz["langs"], npz["feats"], npz["data"][:, :, 0] == 1.0
    sizes = member.sum(axis=0)  # languages per family feature: the broadest is the top level
    top = np.where(member, sizes[None, :], -1).argmax(axis=1)
    has = member.any(axis=1)
    return {str(code): (str(feats[t]).removeprefix("F_") if h else "")
            for code, t, h in zip(langs, top, has, strict=True)}


@cache
def _uriel() -> tuple[dict[str, str], dict[str, str]]:
    """(URIEL code -> top family, ISO 639-1 -> 639-3 letter codes), cached on disk once."""
    letter_codes = json.loads(resources.files("lang2vec").joinpath("data", "letter_codes.json")
                              .read_text("utf-8"))
    path = _cache_file()
    try:
        families = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        families = _compute_families()  # ~6 s: decompresses lang2vec's 120 MB family matrix
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(families, sort_keys=True), "utf-8")
            tmp.replace(path)
        except OSError:
            pass
    return families, letter_codes


def uriel_code(lang: str) -> str | None:
    """The ISO 639-3 code URIEL knows for `lang` (2- or 3-letter), or None."""
    families, letter_codes = _uriel()
    for code in (MACRO_TO_URIEL.get(lang), letter_codes.get(lang), lang):
        if code and code in families:
            return code
    return None


def family(lang: str) -> str:
    """Top-level language family from URIEL ('Isolate' if none, 'unknown' if not in URIEL)."""
    code = uriel_code(lang)
    if code is None:
        return UNKNOWN
    return _uriel()[0][code] or ISOLATE


def _name_and_script(lang: str) -> tuple[str, str]:
    import langcodes

    try:
        tag = langcodes.Language.get(lang)
        return tag.display_name(), tag.maximize().script or UNKNOWN
    except (ValueError, LookupError):
        return lang, UNKNOWN


def real_language_table(codes: list[str]) -> pd.DataFrame:
    """DataFrame(lang, name, family, script) for real ISO 639 language codes."""
    rows = []
    for code in codes:
        name, script = _name_and_script(code)
        rows.append({"lang": code, "name": name, "family": family(code), "script": script})
    return pd.DataFrame(rows, columns=["lang", "name", "family", "script"])


def write_language_table(table: pd.DataFrame, path: Path) -> Path:
    """Write a synthetic language table as CSV with deterministic bytes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    table.to_csv(buf, index=False, lineterminator="\n")
    path.write_bytes(buf.getvalue().encode("utf-8"))
    return path


def read_language_table(path: Path) -> pd.DataFrame:
    """Read and validate `<root>/languages.csv` (one row per language, unique `lang`)."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: invalid UTF-8 at byte {err.start}") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [c for c in SYNTHETIC_COLUMNS if c not in header]
    if missing:
        raise DataError(f"{path}: missing column '{missing[0]}' (needs {list(SYNTHETIC_COLUMNS)})")
    rows = list(reader)
    if not rows:
        raise DataError(f"{path}: no languages")
    seen: set[str] = set()
    for i, row in enumerate(rows):
        if None in row or any(v is None for v in row.values()):
            raise DataError(f"{path}: row {i}: wrong number of columns")
        for col in SYNTHETIC_COLUMNS:
            if not str(row[col]).strip():
                raise DataError(f"{path}: row {i}: column '{col}' is empty")
        if row["lang"] in seen:
            raise DataError(f"{path}: row {i}: duplicate lang '{row['lang']}'")
        seen.add(row["lang"])
    return pd.DataFrame(rows, columns=header)
