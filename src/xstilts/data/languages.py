"""Language metadata: family and script of real languages, and the synthetic languages' table.

Real languages: the family is the broadest `fam` feature of lang2vec's offline URIEL data
(`family_features.npz`, read directly with numpy: lang2vec's own module imports pkg_resources,
which current setuptools no longer ships); a language URIEL knows but assigns no family is an
isolate (Basque). ISO 639-1 codes go through lang2vec's letter-code table, except
macrolanguages, which map to the individual language XTREME's data is in (zh -> cmn, ar -> arb,
fa -> pes, ms -> zsm, sw -> swh, et -> est, qu -> quz: Cusco Quechua, XCOPA's; az -> azj).
A few families are set explicitly (`FAMILY_OVERRIDES`): Basque is an isolate, Quechua is
Quechuan and Haitian Creole is a Creole, as XTREME-R counts its 14 families (URIEL files
Haitian under Indo-European). Names, likely scripts and speaker populations come from
langcodes (+ language_data).

`language_metadata(codes)` is the table the fairness analysis groups by: real codes (XTREME's
40, XTREME-R's 50 and the codes XCOPA / tweet sentiment add) or, given mini-XTREME's
languages.csv, synthetic ones.

The family of every URIEL language is computed once (a few seconds) and cached as JSON under
$XSTILTS_CACHE or ~/.cache/xstilts.

Synthetic languages: the generator writes `<root>/languages.csv`; `read_language_table`
reads and validates it.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xstilts.data.schema import DataError

UNKNOWN = "unknown"
ISOLATE = "Isolate"
MACRO_TO_URIEL: dict[str, str] = {
    "zh": "cmn", "ar": "arb", "fa": "pes", "ms": "zsm", "sw": "swh", "et": "est",
    "qu": "quz", "az": "azj", "uz": "uzn", "ne": "npi", "om": "gaz", "mg": "plt", "ps": "pbt",
    "sq": "als", "yi": "ydd", "mn": "khk", "gn": "gug", "ay": "ayr",
}
CREOLE = "Creole"
FAMILY_OVERRIDES: dict[str, str] = {"eu": ISOLATE, "qu": "Quechuan", "ht": CREOLE}
NAME_OVERRIDES: dict[str, str] = {"tl": "Tagalog"}  # langcodes folds tl into Filipino
ENGLISH = "en"
ENGLISH_CODES = frozenset({"en", "eng"})
# google-research/xtreme README: the 40 XTREME languages (ISO 639-1).
XTREME_LANGUAGES: tuple[str, ...] = (
    "af", "ar", "bg", "bn", "de", "el", "en", "es", "et", "eu", "fa", "fi", "fr", "he", "hi",
    "hu", "id", "it", "ja", "jv", "ka", "kk", "ko", "ml", "mr", "ms", "my", "nl", "pt", "ru",
    "sw", "ta", "te", "th", "tl", "tr", "ur", "vi", "yo", "zh",
)
# XTREME-R (Ruder et al. 2021, section 3.3; also Mewsli-X's README): 50 languages, the 40 above
# plus az, gu, ht, lt, pa, pl, qu, ro, uk, wo.
XTREME_R_ADDED: tuple[str, ...] = ("az", "gu", "ht", "lt", "pa", "pl", "qu", "ro", "uk", "wo")
XTREME_R_LANGUAGES: tuple[str, ...] = tuple(sorted({*XTREME_LANGUAGES, *XTREME_R_ADDED}))
METADATA_COLUMNS: tuple[str, ...] = (
    "lang", "name", "family", "script", "speakers", "is_english", "uriel", "source",
)
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
    """Top-level language family: `FAMILY_OVERRIDES`, else URIEL's ('Isolate' if URIEL has the
    language but no family, 'unknown' if URIEL lacks it)."""
    if lang in FAMILY_OVERRIDES:
        return FAMILY_OVERRIDES[lang]
    code = uriel_code(lang)
    if code is None:
        return UNKNOWN
    return _uriel()[0][code] or ISOLATE


def _name_and_script(lang: str) -> tuple[str, str]:
    import langcodes

    try:
        tag = langcodes.Language.get(lang)
        return NAME_OVERRIDES.get(lang, tag.display_name()), tag.maximize().script or UNKNOWN
    except (ValueError, LookupError):
        return lang, UNKNOWN


def real_language_table(codes: list[str]) -> pd.DataFrame:
    """DataFrame(lang, name, family, script) for real ISO 639 language codes."""
    rows = []
    for code in codes:
        name, script = _name_and_script(code)
        rows.append({"lang": code, "name": name, "family": family(code), "script": script})
    return pd.DataFrame(rows, columns=["lang", "name", "family", "script"])


def speaking_population(lang: str) -> float:
    """Speakers of `lang` (langcodes + language_data estimate); NaN if unknown."""
    import langcodes

    try:
        population = langcodes.Language.get(lang).speaking_population()
    except (ValueError, LookupError, ImportError):
        return math.nan
    return float(population) if population else math.nan


def _split_code(code: str) -> tuple[str, str | None]:
    """'eng_Latn' / 'sr-Cyrl' -> (language, script); 'de' -> ('de', None)."""
    parts = code.replace("_", "-").split("-")
    script = next((p for p in parts[1:] if len(p) == 4 and p.isalpha()), None)
    return parts[0], script.title() if script else None


def _real_row(code: str) -> dict[str, Any]:
    base, script = _split_code(code)
    name, likely = _name_and_script(base)
    return {"lang": code, "name": name, "family": family(base), "script": script or likely,
            "speakers": speaking_population(base), "is_english": base in ENGLISH_CODES,
            "uriel": uriel_code(base) or "", "source": "uriel"}


def _synthetic_rows(codes: Sequence[str], table: pd.DataFrame, where: str) -> list[dict]:
    by_lang = {str(r["lang"]): r for r in table.to_dict("records")}
    missing = [c for c in codes if c not in by_lang]
    if missing:
        raise DataError(f"{where}: no row for language(s) {missing}")
    rows = []
    for code in codes:
        r = by_lang[code]
        try:  # synthetic languages have no speakers: their MLM corpus size stands in
            speakers = float(r.get("speakers", r.get("mlm_sentences", math.nan)))
        except (TypeError, ValueError):
            raise DataError(f"{where}: language '{code}': speakers/mlm_sentences is not a "
                            f"number") from None
        rows.append({"lang": code, "name": str(r["name"]), "family": str(r["family"]),
                     "script": str(r["script"]), "speakers": speakers,
                     "is_english": code == ENGLISH, "uriel": "", "source": "synthetic"})
    return rows


def language_metadata(codes: Sequence[str], synthetic: pd.DataFrame | str | Path | None = None
                      ) -> pd.DataFrame:
    """One row per code (METADATA_COLUMNS): name, family, script, speaker population, whether
    it is English, the URIEL code used and the source of the row.

    Real codes (default) go through URIEL/langcodes; with `synthetic` (mini-XTREME's
    languages.csv path or its table) the rows come from that table, whose `mlm_sentences`
    (or a `speakers` column, if any) is the speaker weight.
    """
    codes = list(dict.fromkeys(str(c) for c in codes))
    if synthetic is None:
        rows = [_real_row(code) for code in codes]
    else:
        if isinstance(synthetic, pd.DataFrame):
            table, where = synthetic, "language table"
        else:
            table, where = read_language_table(Path(synthetic)), str(synthetic)
        rows = _synthetic_rows(codes, table, where)
    out = pd.DataFrame(rows, columns=list(METADATA_COLUMNS))
    out["speakers"] = out["speakers"].astype("float64")
    out["is_english"] = out["is_english"].astype(bool)
    return out


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


def source_languages(source: dict) -> list[str]:
    """Every language of the synthetic benchmark at `source["path"]` (its languages.csv)."""
    table = read_language_table(Path(source["path"]) / "languages.csv")
    return [str(lang) for lang in table["lang"]]


def languages_of(task: Any, source: dict) -> list[str]:
    """Evaluation languages: XTREME's lists on real data, every language on mini-XTREME."""
    if source["kind"] == "synthetic":
        return source_languages(source)
    return list(task.languages)
