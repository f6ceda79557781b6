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


def _candidates(world: World, p: int, q: int, place: PP, kind: str) -> list[Clause]:
    """Every template sentence of `kind` with the group's people and place (or year).

    colored: "P bought a red car in C" (tenses x verbs x objects x colours, 864); object: "P
    bought a car in C" (144); person: "P helped Q in C" and "Q helped P in C" (40). Within a
    kind every sentence names the same entities and has the same English length.
    """
    out: list[Clause] = []
    for tense in ("past", "pres"):
        if kind == "person":
            for verb in _PERSON_VERBS:
                for a, b in ((p, q), (q, p)):
                    out.append(Clause(world.person_np(a), verb, obj=world.person_np(b),
                                      pps=[_copy(place)], tense=tense))
            continue
        for verb in _OBJECT_VERBS:
            for obj in OBJECTS:
                for adjs in ([(c,) for c in COLORS] if kind == "colored" else [()]):
                    out.append(Clause(world.person_np(p), verb,
                                      obj=NP("common", noun=obj, adjs=adjs, det="a"),
                                      pps=[_copy(place)], tense=tense))
    return out


def _copy(pp: PP) -> PP:
    np = pp.np
    return PP(pp.prep, NP(np.kind, np.name, np.etype, value=np.value), pp.role)


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
        pool = _candidates(world, p, q, place, rng.choice(KINDS))
        rng.shuffle(pool)
        group: list[Text] = []
        lengths: set[int] = set()
        for clause in pool:
            text = [Sentence([clause])]
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
