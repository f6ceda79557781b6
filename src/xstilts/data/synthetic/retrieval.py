"""Tatoeba and BUCC sentences without superficial leaks: minimal-pair groups.

A group is a set of sentences that share every name (the same people, city or organisation),
every number and their English length in tokens, and differ in one or two content words (the
verb, the object, its colour, who does what to whom, the tense). Names, digits and length
therefore tell at most which group a sentence belongs to, never which member; only the words'
meanings do. Real Tatoeba is like this (thousands of short sentences about "Tom"), and real BUCC
hides its parallel pairs among near-duplicates of the same news.

- Tatoeba: `groups` of `group_size` sentences, the same English sentences for every language.
- BUCC: one group per gold pair; its other members are the distractors, split between the
  source side (not translated on the target side) and the target side (not on the source side).
- Years occur in at most `YEAR_SHARE` of the sentences (whole groups, so they name a group).
"""

from __future__ import annotations

import random

from xstilts.data.synthetic.grammar import NP, PP, Clause, Realizer, Sentence, Text
from xstilts.data.synthetic.lexicon import COLORS, OBJECTS
from xstilts.data.synthetic.world import World

YEAR_SHARE = 0.04
_OBJECT_VERBS = ("buy", "sell", "lose", "find", "repair", "wash")
# (no symmetric verb: "P met Q" and "Q met P" would be two members with one meaning)
_PERSON_VERBS = ("hire", "help", "call", "pay", "teach", "follow", "see", "thank", "visit",
                 "find")


KINDS = ("colored", "object", "person")
CAPACITY = {"colored": 864, "object": 144, "person": 40}  # sentences per group, at most


def _candidates(p: int, q: int, kind: str) -> list[tuple]:
    """Every template sentence of `kind` as (subject, verb, object, tense) parameters.

    colored: "P bought a red car in C" (tenses x verbs x objects x colours, 864); object: "P
    bought a car in C" (144); person: "P helped Q in C" and "Q helped P in C" (40). Within a
    kind every sentence names the same entities and has the same English length.
    """
    out: list[tuple] = []
    for tense in ("past", "pres"):
        if kind == "person":
            out += [(a, verb, b, tense) for verb in _PERSON_VERBS for a, b in ((p, q), (q, p))]
            continue
        colors = [(c,) for c in COLORS] if kind == "colored" else [()]
        out += [(p, verb, (obj, adjs), tense) for verb in _OBJECT_VERBS for obj in OBJECTS
                for adjs in colors]
    return out


def _clause(world: World, params: tuple, place: PP) -> Clause:
    subj, verb, obj, tense = params
    np = place.np
    pp_np = NP(np.kind, np.name, np.etype, value=np.value)
    o = (world.person_np(obj) if isinstance(obj, int)
         else NP("common", noun=obj[0], adjs=obj[1], det="a"))
    return Clause(world.person_np(subj), verb, obj=o, pps=[PP(place.prep, pp_np, place.role)],
                  tense=tense)


def groups(world: World, english: Realizer, sizes: list[int], rng: random.Random
           ) -> list[list[Text]]:
    """Minimal-pair groups of the given sizes (distinct English sentences across groups).

    Each group draws two people and a city (a year for `YEAR_SHARE` of the groups), a template
    kind (`KINDS`) and `size` of the kind's sentences with them.
    """
    world.rng = rng
    year_groups = set(rng.sample(range(len(sizes)), int(YEAR_SHARE * len(sizes))))
    seen: set[str] = set()
    out: list[list[Text]] = []
    for g, size in enumerate(sizes):
        p, q = rng.sample(range(len(world.people)), 2)
        if g in year_groups:
            place = PP("in_time", NP("num", value=world.year()), "time")
        else:
            place = PP("in_loc", world.city_np(rng.randrange(len(world.cities))), "loc")
        kinds = [k for k in KINDS if CAPACITY[k] >= size]
        if not kinds:
            raise ValueError(f"synthetic: a retrieval group of {size} sentences is larger than "
                             f"any template's {max(CAPACITY.values())} (lower retrieval_group, "
                             "or BUCC's distractors per gold pair)")
        pool = _candidates(p, q, rng.choice(kinds))
        rng.shuffle(pool)
        group: list[Text] = []
        lengths: set[int] = set()
        for params in pool:
            text = [Sentence([_clause(world, params, place)])]
            tokens = english.text(text)
            key = english.join(tokens)[0]
            if key in seen:
                continue
            seen.add(key)
            lengths.add(len(tokens))
            group.append(text)
            if len(group) == size:
                break
        if len(group) < size or len(lengths) != 1:
            raise RuntimeError(f"retrieval: group {g} has {len(group)} of {size} sentences "
                               f"of English lengths {sorted(lengths)}")
        out.append(group)
    return out
