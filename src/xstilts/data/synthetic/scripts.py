"""Writing systems: romanized (lowercase a-z) word forms -> Unicode surface forms.

Latin, Cyrillic and Greek are letter-by-letter (with a few digraphs); Devanagari and Thai are
abugidas (consonant + vowel sign, virama / bare final consonant); the Han-like script writes one
character per syllable from a fixed syllable table.
"""

from __future__ import annotations

import re

VOWELS = "aeiou"
SCRIPTS = ("Latin", "Cyrillic", "Greek", "Devanagari", "Thai", "Han")
CASED = {"Latin", "Cyrillic", "Greek"}

_CYR = {"sh": "ш", "ch": "ч", "zh": "ж", "ts": "ц", "ya": "я", "yu": "ю",
        "a": "а", "b": "б", "c": "ц", "d": "д", "e": "е", "f": "ф", "g": "г", "h": "х", "i": "и",
        "j": "й", "k": "к", "l": "л", "m": "м", "n": "н", "o": "о", "p": "п", "q": "к", "r": "р",
        "s": "с", "t": "т", "u": "у", "v": "в", "w": "в", "x": "кс", "y": "ы", "z": "з"}
_GRK = {"th": "θ", "ch": "χ", "ps": "ψ", "ks": "ξ", "ph": "φ",
        "a": "α", "b": "β", "c": "κ", "d": "δ", "e": "ε", "f": "φ", "g": "γ", "h": "χ", "i": "ι",
        "j": "ι", "k": "κ", "l": "λ", "m": "μ", "n": "ν", "o": "ο", "p": "π", "q": "κ", "r": "ρ",
        "s": "σ", "t": "τ", "u": "υ", "v": "β", "w": "ω", "x": "ξ", "y": "υ", "z": "ζ"}
_DEV_C = {"sh": "श", "ch": "च", "th": "थ", "kh": "ख", "b": "ब", "c": "क", "d": "द", "f": "फ",
          "g": "ग", "h": "ह", "j": "ज", "k": "क", "l": "ल", "m": "म", "n": "न", "p": "प",
          "q": "क", "r": "र", "s": "स", "t": "त", "v": "व", "w": "व", "x": "क्स", "y": "य",
          "z": "ज़"}
_DEV_V = {"aa": ("आ", "ा"), "ii": ("ई", "ी"), "uu": ("ऊ", "ू"), "ai": ("ऐ", "ै"),
          "au": ("औ", "ौ"), "a": ("अ", ""), "e": ("ए", "े"), "i": ("इ", "ि"), "o": ("ओ", "ो"),
          "u": ("उ", "ु")}
_THA_C = {"sh": "ช", "ch": "ฉ", "th": "ธ", "kh": "ข", "b": "บ", "c": "จ", "d": "ด", "f": "ฟ",
          "g": "ก", "h": "ห", "j": "จ", "k": "ค", "l": "ล", "m": "ม", "n": "น", "p": "พ",
          "q": "ค", "r": "ร", "s": "ส", "t": "ท", "v": "ว", "w": "ว", "x": "ซ", "y": "ย",
          "z": "ซ"}
# vowel -> (pre-posed sign, post-posed sign)
_THA_V = {"aa": ("", "า"), "ii": ("", "ี"), "uu": ("", "ู"), "ai": ("ไ", ""), "au": ("เ", "า"),
          "a": ("", "ะ"), "e": ("เ", ""), "i": ("", "ิ"), "o": ("โ", ""), "u": ("", "ุ")}

_UNIT = re.compile(r"sh|ch|th|kh|zh|ts|aa|ii|uu|ai|au|[a-z]")
_SYLL = re.compile(r"[^aeiou]*[aeiou]+(?:n(?![aeiou]))?|[^aeiou]+$")


def _greedy(word: str, table: dict[str, str]) -> str:
    out, i = [], 0
    while i < len(word):
        for size in (2, 1):
            piece = word[i:i + size]
            if piece in table:
                out.append(table[piece])
                i += size
                break
        else:
            out.append(word[i])
            i += 1
    return "".join(out)


def _units(word: str) -> list[str]:
    return _UNIT.findall(word)


def _is_vowel(unit: str) -> bool:
    return unit[0] in VOWELS


def _devanagari(word: str) -> str:
    units, out, i = _units(word), [], 0
    while i < len(units):
        u = units[i]
        if _is_vowel(u):
            out.append(_DEV_V.get(u, _DEV_V[u[0]])[0])
        else:
            out.append(_DEV_C.get(u, _DEV_C.get(u[0], u)))
            nxt = units[i + 1] if i + 1 < len(units) else None
            if nxt is not None and _is_vowel(nxt):
                out.append(_DEV_V.get(nxt, _DEV_V[nxt[0]])[1])
                i += 1
            else:
                out.append("्")
        i += 1
    return "".join(out)


def _thai(word: str) -> str:
    units, out, i = _units(word), [], 0
    while i < len(units):
        u = units[i]
        if _is_vowel(u):
            pre, post = _THA_V.get(u, _THA_V[u[0]])
            out.append(pre + "อ" + post)
        else:
            cons = _THA_C.get(u, _THA_C.get(u[0], u))
            nxt = units[i + 1] if i + 1 < len(units) else None
            if nxt is not None and _is_vowel(nxt):
                pre, post = _THA_V.get(nxt, _THA_V[nxt[0]])
                out.append(pre + cons + post)
                i += 1
            else:
                out.append(cons)
        i += 1
    return "".join(out)


def _han_table() -> dict[str, str]:
    """A fixed syllable -> CJK character table (deterministic, injective)."""
    onsets = [""] + sorted(set(_THA_C) - {"x", "q", "w", "c"})
    rimes = [v + c for v in ("a", "e", "i", "o", "u", "aa", "ii", "uu", "ai", "au")
             for c in ("", "n")]
    table, code = {}, 0x4E2D
    for onset in onsets:
        for rime in rimes:
            table[onset + rime] = chr(code)
            code += 7  # spread over the block, skipping neighbours
    for onset in onsets:  # bare consonants (clusters, finals)
        if onset:
            table[onset] = chr(code)
            code += 7
    return table


_HAN = _han_table()


def _han(word: str) -> str:
    out = []
    for syll in _SYLL.findall(word):
        if syll in _HAN:
            out.append(_HAN[syll])
        else:  # split unusual clusters into single letters
            out.extend(_HAN.get(ch, ch) for ch in syll)
    return "".join(out)


_VIET = {"on": "ôn", "en": "ên", "an": "ăn", "ou": "ơu", "u": "ư"}


def to_script(word: str, script: str, *, accents: bool = False) -> str:
    """Write the romanized `word` (lowercase a-z) in `script`."""
    if not word:
        return word
    if script == "Latin":
        return _greedy(word, _VIET) if accents else word
    if script == "Cyrillic":
        return _greedy(word, _CYR)
    if script == "Greek":
        text = _greedy(word, _GRK)
        return text[:-1] + "ς" if text.endswith("σ") else text
    if script == "Devanagari":
        return _devanagari(word)
    if script == "Thai":
        return _thai(word)
    if script == "Han":
        return _han(word)
    raise ValueError(f"unknown script '{script}'; known: {SCRIPTS}")


def capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]
