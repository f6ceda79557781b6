"""The mini-XTREME world: typed entities with attributes, and fact sentences about them.

People (first + last name, gender, city, employer, job, a possession), cities (one or two name
tokens), organisations (two or three name tokens, a home city). Names are romanized strings
shared by every language, each of which adapts them to its phonology and script
(`Language.name`), like real named entities.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from xstilts.data.synthetic.grammar import NP, PP, Clause, Sentence
from xstilts.data.synthetic.lexicon import COLORS, JOBS, OBJECTS, SIZES

_ONSETS = ["b", "d", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z"]
_VOWELS = ["a", "e", "i", "o", "u"]
_CITY_PREFIX = ("nova", "porto", "vila")


@dataclass(frozen=True)
class Person:
    first: str
    last: str
    gender: str  # f | m
    city: int
    org: int
    job: str
    owns: tuple[str, str]  # (color, object)


@dataclass(frozen=True)
class Org:
    name: tuple[str, ...]
    city: int


class World:
    """Entities of one benchmark, generated from a seeded RNG."""

    def __init__(self, rng: random.Random, n_people: int, n_cities: int, n_orgs: int,
                 forbidden: set[str]) -> None:
        self.rng = rng
        self._used = set(forbidden)
        self.cities = [self._city() for _ in range(n_cities)]
        self.orgs = [Org(self._org(), rng.randrange(n_cities)) for _ in range(n_orgs)]
        self.people: list[Person] = []
        full = set()
        while len(self.people) < n_people:
            gender = rng.choice("fm")
            first = self._name(2, ending="a" if gender == "f" else "o")
            last = self._name(rng.choice((2, 3)))
            if (first, last) in full:
                continue
            full.add((first, last))
            self.people.append(Person(first, last, gender, rng.randrange(n_cities),
                                      rng.randrange(n_orgs), rng.choice(JOBS),
                                      (rng.choice(COLORS), rng.choice(OBJECTS))))

    def _syllables(self, n: int) -> str:
        out = "".join(self.rng.choice(_ONSETS) + self.rng.choice(_VOWELS) for _ in range(n))
        if self.rng.random() < 0.3:
            out += "n"
        return out

    def _name(self, n: int, ending: str = "", unique: bool = False) -> str:
        for _ in range(1000):
            word = self._syllables(n)
            if ending:
                word = word.rstrip("n")[:-1] + ending
            if word not in self._used and (not unique or word not in self._used):
                if unique:
                    self._used.add(word)
                return word
        raise RuntimeError("could not generate a fresh name")

    def _city(self) -> tuple[str, ...]:
        main = self._name(self.rng.choice((2, 3)), unique=True)
        if self.rng.random() < 0.2:
            return (self.rng.choice(_CITY_PREFIX), main)
        return (main,)

    def _org(self) -> tuple[str, ...]:
        n = 3 if self.rng.random() < 0.25 else 2
        return tuple(self._name(self.rng.choice((1, 2)) + 1, unique=True) for _ in range(n))

    # ------------------------------------------------------------------ noun phrases
    def person_np(self, p: int) -> NP:
        person = self.people[p]
        return NP("name", name=(person.first, person.last), etype="PER")

    def city_np(self, c: int) -> NP:
        return NP("name", name=self.cities[c], etype="LOC")

    def org_np(self, o: int) -> NP:
        return NP("name", name=self.orgs[o].name, etype="ORG")

    def pronoun(self, p: int) -> NP:
        return NP("pron", value="she" if self.people[p].gender == "f" else "he")

    # ------------------------------------------------------------------ random picks
    def other(self, n: int, *exclude: int) -> int:
        while True:
            i = self.rng.randrange(n)
            if i not in exclude:
                return i

    def year(self) -> str:
        return str(self.rng.randrange(1950, 2024))

    def thing(self, adjectives: int = 1) -> NP:
        adjs = tuple(self.rng.sample(COLORS, 1)) if adjectives else ()
        if adjectives > 1:
            adjs = (self.rng.choice(SIZES),) + adjs
        return NP("common", noun=self.rng.choice(OBJECTS), adjs=adjs, det="a")


def fact(world: World, p: int, relation: str, subj: NP | None = None) -> Clause:
    """A clause stating an attribute of person `p` (subject `subj` defaults to the name)."""
    person = world.people[p]
    subj = subj or world.person_np(p)
    if relation == "live":
        return Clause(subj, "live", pps=[PP("in_loc", world.city_np(person.city), "loc")])
    if relation == "work":
        return Clause(subj, "work", pps=[PP("for", world.org_np(person.org), "org")])
    if relation == "job":
        return Clause(subj, "be", obj=NP("common", noun=person.job, det="a"))
    if relation == "own":
        color, obj = person.owns
        return Clause(subj, "own", obj=NP("common", noun=obj, adjs=(color,), det="a"))
    raise ValueError(f"unknown relation '{relation}'")


RELATIONS = ("live", "work", "job", "own")


def event(world: World, p: int, kind: str | None = None) -> Clause:
    """A random past event involving person `p` (with a place or time adjunct)."""
    rng = world.rng
    kind = kind or rng.choice(("visit", "person", "buy", "trip"))
    subj = world.person_np(p)
    if kind == "visit":
        c = world.city_np(world.other(len(world.cities)))
        return Clause(subj, "visit", obj=c, pps=[PP("in_time", NP("num", value=world.year()),
                                                    "time")], tense="past")
    if kind == "person":
        verb = rng.choice(("hire", "help", "call", "pay", "teach", "follow", "see", "thank",
                           "meet"))
        q = world.other(len(world.people), p)
        return Clause(subj, verb, obj=world.person_np(q), pps=[adjunct(world)], tense="past")
    if kind == "buy":
        verb = rng.choice(("buy", "sell", "lose", "find", "repair", "wash"))
        return Clause(subj, verb, obj=world.thing(rng.choice((1, 1, 2))), pps=[adjunct(world)],
                      tense="past")
    if kind == "trip":
        verb = rng.choice(("arrive", "sleep", "work", "eat"))
        return Clause(subj, verb, pps=[adjunct(world, "loc")], tense="past")
    raise ValueError(f"unknown event kind '{kind}'")


def adjunct(world: World, role: str | None = None) -> PP:
    role = role or world.rng.choice(("loc", "time"))
    if role == "loc":
        return PP("in_loc", world.city_np(world.rng.randrange(len(world.cities))), "loc")
    return PP("in_time", NP("num", value=world.year()), "time")


def declarative(world: World) -> Sentence:
    """A random declarative sentence (for MLM, tagging and retrieval corpora)."""
    rng = world.rng
    p = rng.randrange(len(world.people))
    r = rng.random()
    if r < 0.35:
        c = fact(world, p, rng.choice(RELATIONS))
        if rng.random() < 0.15:
            c.neg = True
            c = _negated_fact(world, c)
        if rng.random() < 0.2 and c.verb not in ("be",):
            c.adv = rng.choice(("often", "also"))
        clauses = [c]
        if rng.random() < 0.3:
            c2 = fact(world, p, rng.choice(RELATIONS), subj=world.pronoun(p))
            clauses.append(c2)
        return Sentence(clauses, conj="and")
    c = event(world, p)
    if c.pps and rng.random() < 0.25:
        c.front = 0
    if rng.random() < 0.1:
        c.adv = "yesterday"
    clauses = [c]
    if rng.random() < 0.2:
        q = world.other(len(world.people), p)
        clauses.append(event(world, q))
        return Sentence(clauses, conj=rng.choice(("and", "but")))
    return Sentence(clauses)


def _negated_fact(world: World, c: Clause) -> Clause:
    """Negate a fact, replacing its value so that the sentence stays true in the world."""
    rng = world.rng
    if c.verb == "live":
        c.pps[0].np = world.city_np(rng.randrange(len(world.cities)))
    elif c.verb == "work":
        c.pps[0].np = world.org_np(rng.randrange(len(world.orgs)))
    elif c.verb == "be":
        c.obj = NP("common", noun=rng.choice(JOBS), det="a")
    return c
