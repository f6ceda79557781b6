"""The synthetic languages: typology, families and lexicons derived by sound change.

Each family has a proto-lexicon. The "westic" family's proto-lexicon is English itself, so its
members share cognates with English (systematic sound changes of English words). The other
families draw random proto-words that never coincide with an English or westic word, so they
share no vocabulary with English (only entity names and digits, as real text does).
Every member applies its own regular sound changes to the family's proto-words and replaces a
few of them by unrelated words (lexical replacement).
"""

from __future__ import annotations

import random
import re
from collections.abc import Collection
from dataclasses import dataclass, field

from xstilts.data.synthetic.lexicon import (
    VERBS,
    all_concepts,
    english_form,
    extension_concepts,
    extension_english_forms,
)
from xstilts.data.synthetic.scripts import CASED, capitalize, to_script


@dataclass(frozen=True)
class LangSpec:
    """Typological settings of one language."""

    code: str
    name: str
    family: str
    script: str
    order: str  # SVO | SOV | VSO | VOS
    adp: str  # pre | post (adpositions)
    adj: str  # pre | post (adjective before/after the noun)
    article: str  # free | suffix | none
    case: bool  # subject/object case particles
    tense: str  # suffix | prefix | particle | english
    neg: str  # pre | post | prefix
    wh: str  # front | insitu (+ question particle)
    copula: bool
    resource: str  # high | mid | low
    spaces: bool = True
    accents: bool = False
    sound_changes: tuple[tuple[str, str], ...] = ()

    @property
    def name_changes(self) -> tuple[tuple[str, str], ...]:
        """How the language adapts a foreign (romanized) name: its family's loan phonology
        (`NAME_ADAPTATION`), then its own sound changes."""
        return NAME_ADAPTATION.get(self.family, ()) + self.sound_changes

    @property
    def morphology(self) -> str:
        if self.tense == "suffix" or self.article == "suffix":
            return "agglutinative" if self.case else "fusional"
        if self.tense == "prefix" or self.neg == "prefix":
            return "prefixing"
        if self.tense == "english":
            return "analytic"
        return "isolating"


# The language table. Sound changes are ordered regex rewrites of the family's proto-words.
LANGUAGE_SPECS: tuple[LangSpec, ...] = (
    LangSpec("en", "English", "westic", "Latin", "SVO", "pre", "pre", "free", False, "english",
             "pre", "front", True, "high"),
    LangSpec("dano", "Danoic", "westic", "Latin", "SVO", "pre", "pre", "suffix", False, "suffix",
             "post", "front", True, "high",
             sound_changes=(("th", "t"), ("w", "v"), ("c(?=[eiy])", "s"), ("c", "k"),
                            ("sh", "sk"), ("ee", "e"), ("oo", "u"), ("y$", "i"), ("(?<=.)e$", ""),
                            ("ph", "f"))),
    LangSpec("saxo", "Saxonic", "westic", "Latin", "SOV", "pre", "pre", "free", False, "suffix",
             "pre", "front", True, "mid",
             sound_changes=(("th", "d"), ("p(?!h)", "pf"), ("t(?!h)", "z"), ("c", "k"),
                            ("w", "v"), ("y", "ie"), ("ou", "au"), ("sh", "sch"),
                            ("([^aeiou])$", r"\1e"))),
    LangSpec("rusko", "Ruskoic", "westic", "Cyrillic", "SVO", "pre", "pre", "none", False,
             "suffix", "pre", "front", False, "mid",
             sound_changes=(("th", "t"), ("w", "v"), ("c", "k"), ("ee", "i"), ("oo", "u"),
                            ("e$", "a"), ("gh", "g"), ("y", "i"))),
    LangSpec("heli", "Helian", "helic", "Greek", "SVO", "pre", "pre", "free", False, "suffix",
             "pre", "front", True, "high", sound_changes=(("p", "ph"), ("k(?=[ei])", "ch"))),
    LangSpec("kora", "Koran", "helic", "Latin", "VSO", "pre", "post", "free", False, "prefix",
             "pre", "front", True, "mid", sound_changes=(("s", "h"), ("o", "u"), ("d", "t"))),
    LangSpec("vely", "Velian", "helic", "Cyrillic", "SOV", "post", "pre", "none", True, "suffix",
             "pre", "insitu", False, "low",
             sound_changes=(("k", "ch"), ("e", "ye"), ("b", "v"), ("a$", "o"))),
    LangSpec("sinu", "Sinuan", "sindic", "Devanagari", "SOV", "post", "pre", "none", True,
             "suffix", "pre", "insitu", True, "mid", sound_changes=(("a", "aa"), ("t", "th"))),
    LangSpec("maru", "Maruan", "sindic", "Devanagari", "SOV", "post", "pre", "none", True,
             "suffix", "post", "insitu", True, "low",
             sound_changes=(("v", "b"), ("s", "sh"), ("o$", "u"))),
    LangSpec("tamo", "Tamoan", "sindic", "Latin", "SOV", "post", "pre", "none", True, "suffix",
             "prefix", "insitu", False, "low",
             sound_changes=(("d", "t"), ("g", "k"), ("e", "i"), ("([^aeiou])$", r"\1u"))),
    LangSpec("tayo", "Tayoan", "taic", "Thai", "SVO", "pre", "post", "none", False, "particle",
             "pre", "insitu", True, "mid", spaces=False, sound_changes=(("r", "l"),)),
    LangSpec("hano", "Hanoic", "taic", "Han", "SVO", "pre", "pre", "none", False, "particle",
             "pre", "insitu", True, "high", spaces=False,
             sound_changes=(("b", "p"), ("d", "t"), ("g", "k"))),
    LangSpec("viko", "Vikoan", "taic", "Latin", "SVO", "pre", "post", "none", False, "particle",
             "pre", "insitu", True, "low", accents=True,
             sound_changes=(("r", "z"), ("h", "kh"))),
)
FAMILIES = ("westic", "helic", "sindic", "taic")
# Loanword adaptation of entity names, per family (before the member's own sound changes), as
# real languages respell foreign names (Greek Petros, Hindi -aa, Vietnamese -nh): the westic
# family keeps English names (only its sound changes apply); the others fit them to their
# phonotactics -- helic closes every name with its nominative -s, sindic has no l, z or e and
# lengthens final vowels, taic has no r, z or v, diphthongizes or lengthens final vowels and
# writes a final n as nh. Every name of a non-westic language thus differs from its English
# spelling. (Ordered rewrites, each applied once, so no end rule feeds another.)
NAME_ADAPTATION: dict[str, tuple[tuple[str, str], ...]] = {
    "helic": (("([aeiou])$", r"\1s"), ("n$", "nis")),
    "sindic": (("l", "r"), ("z", "j"), ("e", "i"), ("i$", "ii"), ("u$", "uu"), ("a$", "aa"),
               ("o$", "u")),
    "taic": (("r", "l"), ("z", "s"), ("v", "b"), ("i$", "ii"), ("u$", "uu"), ("[ae]$", "ai"),
             ("o$", "au"), ("n$", "nh")),
}
# phonotactics of the random proto-lexicons: (onsets, vowels, codas, max syllables)
_PHONO = {
    "helic": ("k l m n p r s t d g", "a e i o", "s n r", 3),
    "sindic": ("b d g h k m n p r s t v", "a i u o", "n m", 3),
    "taic": ("b d g h k l m n p s t", "a e i o u", "n", 2),
}
_WESTIC_MORPHEMES = {"_sfx_pres": "et", "_sfx_past": "ede", "_sfx_def": "en", "_pfx_neg": "un",
                     "_nom": "ge", "_acc": "te", "_q": "ka", "_past": "haf"}
REPLACE_RATE = 0.12


@dataclass
class Language:
    """A language: its spec plus the romanized lexicon (concept key -> form)."""

    spec: LangSpec
    lexicon: dict[str, str] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return self.spec.code

    _cache: dict[str, str] = field(default_factory=dict, repr=False)
    _names: dict[str, str] = field(default_factory=dict, repr=False)

    def surface(self, romanized: str) -> str:
        """The written form of a romanized word in this language's script."""
        out = self._cache.get(romanized)
        if out is None:
            out = self._cache[romanized] = to_script(romanized, self.spec.script,
                                                     accents=self.spec.accents)
        return out

    def name(self, romanized: str) -> str:
        """An entity name as this language writes it: adapted (`LangSpec.name_changes`), then
        transliterated into the script (capitalized where the script has case)."""
        out = self._names.get(romanized)
        if out is None:
            text = self.surface(_apply(romanized, self.spec.name_changes))
            out = self._names[romanized] = (capitalize(text) if self.spec.script in CASED
                                            else text)
        return out


def _random_word(rng: random.Random, family: str, syllables: int) -> str:
    onsets, vowels, codas, _ = (part.split() if isinstance(part, str) else part
                                for part in _PHONO[family])
    out = []
    for i in range(syllables):
        out.append(rng.choice(onsets) + rng.choice(vowels))
        if i == syllables - 1 and rng.random() < 0.35:
            out.append(rng.choice(codas))
    return "".join(out)


def _apply(word: str, changes: tuple[tuple[str, str], ...]) -> str:
    for pattern, repl in changes:
        word = re.sub(pattern, repl, word)
    return word


def english_vocabulary() -> set[str]:
    """Every English word form of the lexicon (lowercase)."""
    words = {english_form(k) for k in all_concepts()} - {""}
    for forms in VERBS.values():
        words.update(forms)
    words.update({"does", "did", "do", "is", "was", "are", "were", "whom"})
    return words


def build_languages(seed: int, codes: list[str] | None = None) -> list[Language]:
    """Build every language's lexicon, deterministically from `seed`."""
    specs = [s for s in LANGUAGE_SPECS if codes is None or s.code in codes]
    if codes is not None:
        missing = sorted(set(codes) - {s.code for s in LANGUAGE_SPECS})
        if missing:
            known = [s.code for s in LANGUAGE_SPECS]
            raise ValueError(f"synthetic config 'languages': unknown code(s) {missing}; "
                             f"known: {known}")
        if "en" not in codes:
            raise ValueError("synthetic config 'languages': 'en' must be included")
    rng = random.Random(f"xstilts-languages-{seed}")
    concepts = all_concepts()
    english = english_vocabulary()
    taken = set(english)
    # proto-lexicons
    proto: dict[str, dict[str, str]] = {"westic": {}}
    for key in concepts:
        proto["westic"][key] = _WESTIC_MORPHEMES.get(key) or english_form(key)
    for fam in ("helic", "sindic", "taic"):
        lex, used = {}, set()
        for key, pos in concepts.items():
            short = key.startswith("_") or pos in ("ADP", "DET", "PART", "CCONJ", "SCONJ", "PRON")
            max_syll = _PHONO[fam][3]
            while True:
                n = 1 if short else rng.randint(1 if fam == "taic" else 2, max_syll)
                word = _random_word(rng, fam, n)
                if word not in taken and word not in used:
                    break
            lex[key] = word
            used.add(word)
        proto[fam] = lex
    languages = []
    for spec in specs:
        lex: dict[str, str] = {}
        if spec.code == "en":
            lex = {k: english_form(k) for k in concepts}
        else:
            base = proto[spec.family]
            used: set[str] = set()
            for key in concepts:
                word = _apply(base[key], spec.sound_changes)
                if not key.startswith("_") and spec.family != "westic" \
                        and rng.random() < REPLACE_RATE:
                    fam = spec.family
                    word = _apply(_random_word(rng, fam, rng.randint(1, 2)), spec.sound_changes)
                if spec.family == "westic" and not key.startswith("_") \
                        and rng.random() < REPLACE_RATE:
                    word = _random_word(rng, "helic", 2) + "e"  # a loan from elsewhere
                extra = 0
                while (word in used and not key.startswith("_")) or (
                        spec.family != "westic" and word in english):
                    word += "aeiou"[extra % 5]
                    extra += 1
                used.add(word)
                lex[key] = word
        languages.append(Language(spec, lex))
    return languages


def extend_lexicons(languages: list[Language], seed: int, avoid: Collection[str] = ()) -> None:
    """Add the extension concepts (`lexicon.extension_concepts`) to every lexicon, in place.

    Words come from their own random streams (one per family, one per language), so the base
    lexicons stay exactly those of `build_languages` (and everything generated from them). As
    in the base lexicon, westic words are sound changes of English, other families' words are
    random proto-words that are never English words; no word repeats a word of its language or
    one of `avoid` (e.g. the world's names).
    """
    concepts = extension_concepts()
    english = english_vocabulary() | extension_english_forms()
    avoid = set(avoid)
    taken = english | avoid
    for lang in languages:
        taken.update(lang.lexicon.values())
    proto: dict[str, dict[str, str]] = {}
    for fam in ("helic", "sindic", "taic"):
        rng = random.Random(f"xstilts-lexicon-ext-{seed}-{fam}")
        lex: dict[str, str] = {}
        for key in concepts:
            while True:
                word = _random_word(rng, fam, rng.randint(2, _PHONO[fam][3]))
                if word not in taken:
                    break
            lex[key] = word
            taken.add(word)
        proto[fam] = lex
    for lang in languages:
        spec = lang.spec
        if spec.code == "en":
            lang.lexicon.update({k: english_form(k) for k in concepts})
            continue
        rng = random.Random(f"xstilts-lexicon-ext-{seed}-{spec.code}")
        used = set(lang.lexicon.values())
        for key in concepts:
            base = english_form(key) if spec.family == "westic" else proto[spec.family][key]
            word = _apply(base, spec.sound_changes)
            if rng.random() < REPLACE_RATE:
                fam = "helic" if spec.family == "westic" else spec.family
                word = _apply(_random_word(rng, fam, rng.randint(1, 2)), spec.sound_changes)
                word += "e" if spec.family == "westic" else ""
            extra = 0
            while word in used or word in avoid or (spec.family != "westic" and word in english):
                word += "aeiou"[extra % 5]
                extra += 1
            used.add(word)
            lang.lexicon[key] = word
