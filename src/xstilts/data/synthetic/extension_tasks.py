"""Builders of the extension tasks: built on the extension lexicon, each from its own random stream.

- `xcopa` (XTREME-R's XCOPA; its English training data is the `copa` task): a premise, the
  question word "cause" or "effect" (English in every language, as in XCOPA) and two
  alternatives. Built on causal chains `cause event -> state -> effect event`; the distractor is
  often the other direction of the same chain, so the question word matters.
- `tweet_sentiment`: single sentences (or two) with an opinion (positive / negative, carried by
  polarity adjectives and verbs, flipped by negation) or none (facts, polarity questions).
- `sib200`: topic classification of news-like sentences (7 SIB-200 topics) whose topic words
  overlap between topics.
- `masakhaner`: PER/ORG/LOC/DATE BIO tags (years and "month year" dates).

They only use the world's random stream of their own task/split (set by the generator) and the
extension concepts of `lexicon` (see `languages.extend_lexicons`).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from xstilts.data.synthetic.grammar import NP, PP, Clause, Sentence
from xstilts.data.synthetic.lexicon import (
    MONTHS,
    NEGATIVE_ADJ,
    NEGATIVE_VERBS,
    POSITIVE_ADJ,
    POSITIVE_VERBS,
    SIZES,
)
from xstilts.data.synthetic.tasks import ClsEx, McEx, TagEx, _key, _s
from xstilts.data.synthetic.world import RELATIONS, World, declarative, event, fact

# ---------------------------------------------------------------------------- helpers


def _the(noun: str, adjs: tuple[str, ...] = ()) -> NP:
    return NP("common", noun=noun, adjs=adjs, det="the")


def _a(noun: str, adjs: tuple[str, ...] = ()) -> NP:
    return NP("common", noun=noun, adjs=adjs, det="a")


def _bare(noun: str) -> NP:
    return NP("common", noun=noun)


def _city(world: World) -> NP:
    return world.city_np(world.rng.randrange(len(world.cities)))


def _year(world: World) -> PP:
    return PP("in_time", NP("num", value=world.year()), "time")


# ---------------------------------------------------------------------------- XCOPA
# An event of a chain: (me, other, world) -> clause, where `me` is the chain's person (a name or
# a pronoun) and `other` another person.
Event = Callable[[NP, NP, World], Clause]


def _ev(verb: str, obj: Callable[[], NP] | None = None, neg: bool = False, adv: str | None = None,
        pp: Callable[[World], PP] | None = None, agent: bool = False,
        to_other: bool = False) -> Event:
    """An event of `me`; `agent`: the other person does it to `me`; `to_other`: `me` does it
    to the other person."""
    def build(me: NP, other: NP, world: World) -> Clause:
        if agent:
            subj, o = other, me
        else:
            subj, o = me, (other if to_other else obj() if obj else None)
        return Clause(subj, verb, obj=o, pps=[pp(world)] if pp else [], tense="past", neg=neg,
                      adv=adv)
    return build


def _to_city(world: World) -> PP:
    return PP("to", _city(world), "to")


# state -> (events that cause it, events it causes); every event belongs to one chain
CHAINS: dict[str, tuple[list[Event], list[Event]]] = {
    "hungry": ([_ev("eat", neg=True), _ev("cook", lambda: _the("dinner"), neg=True)],
               [_ev("cook", lambda: _a("meal")), _ev("eat", lambda: _a("meal")),
                _ev("buy", lambda: _bare("bread"))]),
    "tired": ([_ev("sleep", neg=True), _ev("drive", pp=_to_city), _ev("fly", pp=_to_city)],
              [_ev("sleep"), _ev("go", adv="home")]),
    "sick": ([_ev("eat", lambda: _the("food", ("old",))),
              _ev("eat", lambda: _the("bread", ("old",)))],
             [_ev("call", lambda: _a("doctor")),
              _ev("go", pp=lambda w: PP("to", _the("hospital"), "to")),
              _ev("buy", lambda: _bare("medicine"))]),
    "rich": ([_ev("win", lambda: _bare("money")), _ev("sell", lambda: _the("car")),
              _ev("sell", lambda: _the("boat"))],
             [_ev("buy", lambda: _a("car", ("new",))), _ev("buy", lambda: _a("boat", ("new",)))]),
    "happy": ([_ev("thank", agent=True), _ev("help", agent=True),
               _ev("win", lambda: _a("gift"))],
              [_ev("sing", lambda: _a("song"))]),
    "late": ([_ev("lose", lambda: _the("key")), _ev("lose", lambda: _the("ticket"))],
             [_ev("take", lambda: _the("train")), _ev("call", to_other=True)]),
}


def _person(world: World, p: int, pronoun: bool) -> NP:
    return world.pronoun(p) if pronoun else world.person_np(p)


def xcopa_example(world: World) -> McEx:
    """Premise, "cause"/"effect" and two alternatives; exactly one follows causally."""
    rng = world.rng
    p, q = rng.sample(range(len(world.people)), 2)
    state, other_state = rng.sample(sorted(CHAINS), 2)
    causes, effects = CHAINS[state]
    o_causes, o_effects = CHAINS[other_state]
    kind = rng.choices("ABCDEF", weights=(2, 2, 1.5, 1.5, 1.5, 1.5))[0]
    same = rng.random() < 0.5  # distractor from the other direction of the same chain

    def st(s: str) -> Clause:
        return Clause(world.person_np(p), "be", obj=NP("adj", value=s), tense="past")

    premise_me = world.person_np(p)
    other = world.person_np(q)
    pron = rng.random() < 0.5  # the alternatives refer to the premise's person by a pronoun
    me = _person(world, p, pron)

    def ev(pool: list[Event], who: NP) -> Clause:
        return rng.choice(pool)(who, other, world)

    if kind in "AB":  # premise: the state
        premise = st(state)
        question = "effect" if kind == "A" else "cause"
        gold_pool, same_pool, other_pool = ((effects, causes, o_effects) if kind == "A"
                                            else (causes, effects, o_causes))
        gold = ev(gold_pool, me)
        wrong = ev(same_pool if same else other_pool, me)
    elif kind in "CD":  # premise: an event; alternatives: states
        question = "cause" if kind == "C" else "effect"
        premise = ev(effects if kind == "C" else causes, premise_me)
        gold, wrong = st(state), st(other_state)
        if pron:
            gold.subj, wrong.subj = world.pronoun(p), world.pronoun(p)
    else:  # premise: an event; alternatives: events two steps away
        question = "effect" if kind == "E" else "cause"
        premise = ev(causes if kind == "E" else effects, premise_me)
        gold = ev(effects if kind == "E" else causes, me)
        wrong = ev(o_effects if kind == "E" else o_causes, me)
    if _key(gold) == _key(wrong):  # cannot happen with disjoint chains; keep choices distinct
        raise RuntimeError("xcopa: identical alternatives")
    label = rng.randrange(2)
    choices = [wrong]
    choices.insert(label, gold)
    return McEx([_s(premise)], question, [[_s(c)] for c in choices], label)


# ---------------------------------------------------------------------------- tweet sentiment
SENTIMENT_LABELS = ("negative", "neutral", "positive")
_REVIEWED = ("meal", "dinner", "food", "bread", "song", "book", "picture", "phone", "camera",
             "car", "bike", "guitar", "train", "plane", "hotel", "film", "concert", "festival",
             "match", "shop", "market", "theater", "beach")


def _polar_word(rng: random.Random, polarity: int, verb: bool) -> str:
    if verb:
        return rng.choice(POSITIVE_VERBS if polarity > 0 else NEGATIVE_VERBS)
    return rng.choice(POSITIVE_ADJ if polarity > 0 else NEGATIVE_ADJ)


def _opinion(world: World, p: int, noun: str, polarity: int, neg: bool,
             question: bool = False) -> Clause:
    """An opinion clause; the words carry `polarity` (before negation)."""
    rng = world.rng
    tense = rng.choice(("past", "pres"))
    if rng.random() < 0.5:  # "The (new) meal (in CITY) was great."
        adjs = (rng.choice(SIZES),) if rng.random() < 0.3 else ()
        pps = [PP("in_loc", _city(world), "loc")] if rng.random() < 0.3 else []
        return Clause(_the(noun, adjs), "be", obj=NP("adj", value=_polar_word(rng, polarity,
                                                                             False)),
                      pps=pps, tense=tense, neg=neg)
    subj = world.person_np(p) if (question or rng.random() < 0.6) else world.pronoun(p)
    return Clause(subj, _polar_word(rng, polarity, True), obj=_the(noun), tense=tense, neg=neg)


def _neutral_context(world: World, p: int, noun: str) -> Clause:
    rng = world.rng
    verb = rng.choice(("buy", "see", "find", "bring"))
    obj = _bare(noun) if noun in ("food", "bread") else _a(noun)
    return Clause(world.person_np(p), verb, obj=obj, pps=[] if rng.random() < 0.5 else
                  [PP("in_loc", _city(world), "loc")], tense="past")


def tweet_example(world: World) -> ClsEx:
    """A tweet-like text: an opinion (possibly negated) or a neutral fact / question."""
    rng = world.rng
    p = rng.randrange(len(world.people))
    noun = rng.choice(_REVIEWED)
    label = rng.choice(SENTIMENT_LABELS)
    if label == "neutral":
        r = rng.random()
        if r < 0.35:  # a polarity word in a question expresses no opinion
            text = [_s(_opinion(world, p, noun, rng.choice((1, -1)), False, True),
                       question=True)]
        elif r < 0.7:
            text = [_s(_neutral_context(world, p, noun))]
        else:
            text = [declarative(world)]
        if rng.random() < 0.3:
            text.insert(0, _s(fact(world, p, rng.choice(RELATIONS))))
        return ClsEx(text, [], label)
    polarity = 1 if label == "positive" else -1
    neg = rng.random() < 0.3  # "not bad" is positive, "not good" negative
    text = [_s(_opinion(world, p, noun, -polarity if neg else polarity, neg))]
    if rng.random() < 0.5:
        text.insert(0, _s(_neutral_context(world, p, noun)))
    return ClsEx(text, [], label)


# ---------------------------------------------------------------------------- SIB-200 topics
TOPICS = ("science/technology", "travel", "politics", "sports", "health", "entertainment",
          "geography")


def _topic_clause(world: World, topic: str) -> Clause:
    """One news-like clause about `topic` (topics share verbs, places and people).

    All four variants of the topic are built (a constant number of random draws), one is kept.
    """
    rng = world.rng
    P = world.person_np(rng.randrange(len(world.people)))  # noqa: N806
    org = world.org_np(rng.randrange(len(world.orgs)))
    when = [_year(world)] if rng.random() < 0.4 else []
    where = [PP("in_loc", _city(world), "loc")] if rng.random() < 0.4 else []
    past = "past"
    pick = rng.randrange(4)
    if topic == "science/technology":
        who = rng.choice((P, _the("scientist"), _the("engineer"), org))
        return [Clause(who, "build", obj=_a(rng.choice(("machine", "computer")), ("new",)),
                       pps=when, tense=past),
                Clause(who, "discover", obj=_a(rng.choice(("machine", "disease")), ("new",)),
                       pps=when or where, tense=past),
                Clause(_the("engineer"), "repair", obj=_the("computer"), pps=where, tense=past),
                Clause(_the("scientist"), "study", obj=_the("experiment"),
                       pps=[PP("in_loc", _the("laboratory"), "loc")], tense=past)][pick]
    if topic == "travel":
        return [Clause(rng.choice((P, _the("tourist"))), "visit", obj=_city(world), pps=when,
                       tense=past),
                Clause(P, "travel", pps=[_to_city(world)], tense=past),
                Clause(_the("hotel"), "be", obj=NP("adj", value=rng.choice(SIZES)),
                       pps=[PP("in_loc", _city(world), "loc")]),
                Clause(_the("tourist"), "take", obj=_the(rng.choice(("flight", "train"))),
                       pps=[_to_city(world)], tense=past)][pick]
    if topic == "politics":
        leader = rng.choice((_the("president"), _the("minister"), P))
        return [Clause(leader, "visit", obj=_city(world), pps=when, tense=past),
                Clause(leader, "write", obj=_a("law", ("new",)), tense=past),
                Clause(P, "win", obj=_the("election"), pps=when, tense=past),
                Clause(rng.choice((_the("parliament"), _the("government"))), "vote",
                       pps=[PP("for", _the("law", ("new",)), "org")], tense=past)][pick]
    if topic == "sports":
        return [Clause(rng.choice((org, _the("team"))), "win", obj=_the("match"),
                       pps=when or where, tense=past),
                Clause(P, "score", obj=_a("goal"), pps=when, tense=past),
                Clause(P, "play", pps=[PP("for", org, "org")], tense=past),
                Clause(_the("coach"), rng.choice(("hire", "thank", "help")),
                       obj=_the("player"), tense=past)][pick]
    if topic == "health":
        return [Clause(rng.choice((_the("doctor"), _the("nurse"))), "help",
                       obj=_the("patient"), pps=where, tense=past),
                Clause(P, "be", obj=NP("adj", value="sick"), tense=past),
                Clause(_the("nurse"), "bring", obj=_the("medicine"),
                       pps=[PP("to", _the("patient"), "to")], tense=past),
                Clause(_the("disease"), "arrive", pps=[PP("in_loc", _city(world), "loc")],
                       tense=past)][pick]
    if topic == "entertainment":
        return [Clause(rng.choice((_the("singer"), P)), "sing", obj=_a("song"),
                       pps=[PP("in_loc", _the(rng.choice(("theater", "concert"))), "loc")],
                       tense=past),
                Clause(P, "watch", obj=_a("film", ("new",)), pps=where, tense=past),
                Clause(_the("actor"), "win", obj=_a("gift"), pps=when, tense=past),
                Clause(P, "play", obj=_the("guitar"),
                       pps=[PP("at", _the("festival"), "loc")], tense=past)][pick]
    if topic == "geography":
        feature = rng.choice(("river", "mountain", "island", "lake", "sea"))
        adj = "blue" if feature in ("sea", "lake") else rng.choice(("big", "small", "old"))
        return [Clause(_the(feature, (rng.choice(SIZES),) if rng.random() < 0.5 else ()), "be",
                       pps=[PP("in_loc", _city(world), "loc")]),
                Clause(_city(world), "be", obj=_a(rng.choice(("region", "island")), ("big",))),
                Clause(_the(feature), "be", obj=NP("adj", value=adj)),
                Clause(_the("region"), "be", pps=[PP("in_loc", _city(world), "loc")])][pick]
    raise ValueError(f"unknown topic '{topic}'")


def sib200_example(world: World) -> ClsEx:
    """One or two sentences about one topic, sometimes after a topic-neutral fact."""
    rng = world.rng
    topic = rng.choice(TOPICS)
    first = _topic_clause(world, topic)
    text = [_s(first)]
    if rng.random() < 0.4:
        second = _topic_clause(world, topic)
        if _key(second) != _key(first):
            text.append(_s(second))
    if rng.random() < 0.25:
        p = rng.randrange(len(world.people))
        text.insert(rng.randrange(len(text) + 1), _s(fact(world, p, rng.choice(RELATIONS))))
    return ClsEx(text, [], topic)


# ---------------------------------------------------------------------------- MasakhaNER
def _date(world: World, np: NP) -> NP:
    """A year NP as a DATE entity; sometimes with a month ("May 1990")."""
    if world.rng.random() < 0.4:
        return NP("date", noun=world.rng.choice(MONTHS), value=np.value, etype="DATE")
    return NP("num", value=np.value, etype="DATE")


def masakhaner_example(world: World) -> TagEx:
    """A declarative sentence whose years (and month + year dates) are DATE entities."""
    rng = world.rng
    sentence: Sentence = declarative(world)
    dated = False
    for c in sentence.clauses:
        for pp in c.pps:
            if pp.role == "time":
                pp.np = _date(world, pp.np)
                dated = True
    if not dated and rng.random() < 0.5:
        c = sentence.clauses[-1]
        if c.verb != "be":
            c.pps.append(PP("in_time", _date(world, NP("num", value=world.year())), "time"))
            c.tense = "past"
    if rng.random() < 0.2:  # an event with a date
        q = rng.randrange(len(world.people))
        e = event(world, q, "visit")
        e.pps[0].np = _date(world, e.pps[0].np)
        sentence = Sentence([*sentence.clauses, e], conj="and")
    return TagEx([sentence], "ner")


EXTENSION_BUILDERS: dict[str, Callable[[World], object]] = {
    "xcopa": xcopa_example,
    "tweet_sentiment": tweet_example,
    "sib200": sib200_example,
    "masakhaner": masakhaner_example,
}
