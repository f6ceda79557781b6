"""Word-aligned parallel sentences with English, and the pretraining text built from them.

File layout (mini-XTREME writes it; real corpora can be converted to it): `parallel/<lang>.tsv`
with columns type (`sent` or `word`), en (space-separated tokens), <lang> (tokens), alignment
(Pharaoh `i-j` pairs: English token i - foreign token j), en_text and text (the detokenized
sentences). Two cross-lingual pretraining signals come from it:

- TLM (XLM's translation language modelling): a sentence and its translation in one sequence,
  so masked words can be recovered from the other language;
- code-switching: aligned words replaced by their counterparts in the other language, so both
  words occur in the same contexts (dictionary-based code-switching). The switched sentence is
  written as each language writes: no space before punctuation, and in a language written
  without spaces (`spaced=False`) its own words stay unseparated, so a subword tokenizer cuts
  them exactly as in running text (a space-joined token list would give them other pieces).
"""

from __future__ import annotations

import csv
import random
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from xstilts.data.schema import DataError

COLUMNS = ("type", "en", "alignment", "en_text", "text")


@dataclass(frozen=True)
class ParallelPair:
    """One aligned sentence pair: English tokens, foreign tokens, (en index, foreign index)."""

    lang: str
    en_tokens: tuple[str, ...]
    tokens: tuple[str, ...]
    alignment: tuple[tuple[int, int], ...]
    en_text: str
    text: str


def _alignment(value: str, n_en: int, n_xx: int, where: str) -> tuple[tuple[int, int], ...]:
    pairs = []
    for item in value.split():
        try:
            i, j = (int(x) for x in item.split("-"))
        except ValueError:
            raise DataError(f"{where}: alignment item {item!r} is not 'i-j'") from None
        if not (0 <= i < n_en and 0 <= j < n_xx):
            raise DataError(f"{where}: alignment {item} outside the sentences "
                            f"({n_en} English, {n_xx} foreign tokens)")
        pairs.append((i, j))
    return tuple(pairs)


def read_parallel(root: str | Path, lang: str) -> list[ParallelPair]:
    """The `sent` rows of `<root>/parallel/<lang>.tsv`; errors name the file and row."""
    path = Path(root) / "parallel" / f"{lang}.tsv"
    if not path.is_file():
        raise DataError(f"{path}: no parallel data for language '{lang}'")
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_MINIMAL)
            missing = [c for c in (*COLUMNS, lang) if c not in (reader.fieldnames or [])]
            if missing:
                raise DataError(f"{path}: missing column(s) {missing}")
            pairs = []
            for row_no, row in enumerate(reader, start=2):
                if row["type"] != "sent":
                    continue
                where = f"{path} row {row_no}"
                en, xx = tuple(row["en"].split(" ")), tuple(row[lang].split(" "))
                pairs.append(ParallelPair(lang, en, xx,
                                          _alignment(row["alignment"], len(en), len(xx), where),
                                          row["en_text"], row["text"]))
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not UTF-8 ({err})") from None
    if not pairs:
        raise DataError(f"{path}: no 'sent' rows")
    return pairs


def tlm_text(pair: ParallelPair, rng: random.Random, sep: str) -> str:
    """The pair as one sequence `a <sep> b`, the order drawn at random."""
    a, b = (pair.en_text, pair.text) if rng.random() < 0.5 else (pair.text, pair.en_text)
    return f"{a} {sep} {b}"


def _is_punct(token: str) -> bool:
    return bool(token) and all(unicodedata.category(c).startswith("P") for c in token)


def _write(chunks: Sequence[tuple[str, bool]], spaced: bool) -> str:
    """Join (text, from a spaced language) chunks of a sentence in a `spaced` language or not:
    a space before each chunk except punctuation, and in an unspaced sentence only before chunks
    of a spaced language (English words in running Thai-like text)."""
    out = ""
    for k, (text, chunk_spaced) in enumerate(chunks):
        if k and not _is_punct(text) and (spaced or chunk_spaced):
            out += " "
        out += text
    return out


def _switch(tokens: Sequence[str], other: Sequence[str], links: dict[int, list[int]],
            ratio: float, rng: random.Random, spaced: bool, other_spaced: bool) -> str:
    chunks: list[tuple[str, bool]] = []
    for k, token in enumerate(tokens):
        if k in links and rng.random() < ratio:
            group = [other[m] for m in links[k]]
            chunks.append((_write([(t, other_spaced) for t in group], other_spaced),
                           other_spaced))
        else:
            chunks.append((token, spaced))
    return _write(chunks, spaced)


def code_switched(pair: ParallelPair, ratio: float, rng: random.Random,
                  spaced: bool = True) -> tuple[str, str]:
    """(foreign sentence with aligned words -> English, English sentence with words -> foreign).

    Each aligned word is replaced with probability `ratio`; `spaced` says whether the foreign
    language separates words with spaces (English does).
    """
    x2e: dict[int, list[int]] = {}
    e2x: dict[int, list[int]] = {}
    for i, j in pair.alignment:
        x2e.setdefault(j, []).append(i)
        e2x.setdefault(i, []).append(j)
    return (_switch(pair.tokens, pair.en_tokens, x2e, ratio, rng, spaced, True),
            _switch(pair.en_tokens, pair.tokens, e2x, ratio, rng, True, spaced))


def cross_lingual_texts(pairs: Iterable[ParallelPair], tlm: bool, code_switch: float,
                        seed: int, sep: str = "</s>", exclude: Iterable[str] = (),
                        unspaced: Collection[str] = ()) -> list[str]:
    """Pretraining sentences from parallel pairs: TLM sequences and/or code-switched sentences.

    Pairs whose English or foreign text is in `exclude` (e.g. retrieval test sentences) are
    skipped, so pretraining never sees an evaluation pair together with its translation.
    `unspaced`: the languages written without spaces between words.
    """
    if not 0.0 <= code_switch <= 1.0:
        raise ValueError(f"code_switch must be in [0, 1], got {code_switch}")
    rng = random.Random(seed)
    banned = set(exclude)
    texts: list[str] = []
    for pair in pairs:
        if pair.en_text in banned or pair.text in banned:
            continue
        if tlm:
            texts.append(tlm_text(pair, rng, sep))
        if code_switch > 0:
            texts.extend(code_switched(pair, code_switch, rng, pair.lang not in unspaced))
    return texts
