"""mini-XTREME's retrieval cannot be solved without word meanings.

Outside the English-cognate family (westic), a no-model retriever (length rank + shared digits +
shared word tokens) and a random-init encoder (the shipped tiny model's shape and tokenizer,
mean pooling) must stay <= 10% on Tatoeba and BUCC test. v1 of the generator fails these:
`benchmarks/retrieval_leaks.py --data <v1 folder>` prints its numbers.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest

from xstilts.analysis.retrieval_leaks import encoder_scores, random_encoder, surface_score
from xstilts.data.synthetic import DEFAULT_CONFIG, generate_records, language_rows
from xstilts.data.synthetic.languages import build_languages

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 10.0  # % (Tatoeba accuracy, BUCC F1), per family outside westic
COGNATE_FAMILY = "westic"
RETRIEVAL = ("tatoeba", "bucc2018")


def _shrunk() -> dict:
    """The default config with every non-retrieval task at 2 examples (retrieval unchanged)."""
    sizes = {t: (sp if t in RETRIEVAL else {s: 2 for s in sp})
             for t, sp in DEFAULT_CONFIG["sizes"].items()}
    return {"sizes": sizes, "translated_train": 0, "parallel": 0, "multilingual_train": 0,
            "mlm": {"high": 1, "mid": 1, "low": 1, "validation": 1}}


@pytest.fixture(scope="module")
def family() -> dict[str, str]:
    return {row["lang"]: row["family"] for row in language_rows(None)}


@pytest.fixture(scope="module")
def retrieval(family: dict[str, str]) -> dict[tuple[str, str], dict]:
    """(task, lang) -> test records of the default benchmark, languages outside westic."""
    return {(t, lang): r for t, split, lang, r in generate_records(_shrunk())
            if t in RETRIEVAL and split == "test" and family[lang] != COGNATE_FAMILY}


def _family_means(scores: dict[tuple[str, str], float], family: dict[str, str]
                  ) -> dict[tuple[str, str], float]:
    by: dict[tuple[str, str], list[float]] = defaultdict(list)
    for (task, lang), value in scores.items():
        by[(task, family[lang])].append(value)
    return {k: float(np.mean(v)) for k, v in by.items()}


def test_no_model_baseline_stays_at_chance(retrieval: dict, family: dict[str, str]) -> None:
    scores = {key: surface_score(key[0], data) for key, data in retrieval.items()}
    means = _family_means(scores, family)
    assert len(means) == 2 * 3, means
    assert max(means.values()) <= LIMIT, {k: round(v, 1) for k, v in means.items()}


def test_random_encoder_stays_at_chance(retrieval: dict, family: dict[str, str],
                                        tmp_path: Path) -> None:
    from xstilts.engine.retrieval import load_retrieval_encoder

    encoder = load_retrieval_encoder(random_encoder(ROOT / "assets" / "models" / "tiny",
                                          tmp_path / "random", seed=0))
    scores = {key: encoder_scores(encoder, key[0], data) for key, data in retrieval.items()}
    means = _family_means(scores, family)
    assert max(means.values()) <= LIMIT, {k: round(v, 1) for k, v in means.items()}


def test_few_years_and_sparse_bucc_gold(retrieval: dict) -> None:
    for (task, lang), data in retrieval.items():
        english = [x["text"] for x in data["target"]]
        with_digit = np.mean([bool(re.search(r"\d", t)) for t in english])
        assert with_digit <= 0.05, (task, lang, with_digit)
        if task == "bucc2018":
            density = len(data["gold"]) / len(data["source"])
            assert 0.02 <= density <= 0.06, (lang, density)


def test_sentences_come_in_minimal_pair_groups(retrieval: dict) -> None:
    """Every English Tatoeba sentence shares its names, digits and length with >= 9 others."""
    english = [x["text"] for x in next(iter(
        d for (t, _), d in retrieval.items() if t == "tatoeba"))["target"]]

    def signature(text: str) -> tuple:
        words = text.rstrip(".?").split()
        return (len(words), tuple(sorted(w for w in words if w[:1].isupper() or w.isdigit())))

    counts = Counter(signature(t) for t in english)
    assert min(counts[signature(t)] for t in english) >= 10, counts.most_common()[-3:]


def test_names_are_adapted_outside_the_cognate_family() -> None:
    names = ("bako", "lina", "bakun", "zerovi", "tomu", "hiro", "porto", "dumeza")
    for lang in build_languages(13):
        if lang.spec.family == COGNATE_FAMILY:
            continue
        same = [n for n in names if lang.name(n).lower() == n]
        assert not same, (lang.code, same)


def test_group_capacity_and_oversized_groups() -> None:
    from xstilts.data.synthetic import retrieval_records
    from xstilts.data.synthetic.retrieval import CAPACITY, _candidates

    assert {k: len(_candidates(0, 1, k)) for k in CAPACITY} == CAPACITY
    with pytest.raises(ValueError, match="retrieval group of 1001 sentences"):
        list(retrieval_records({"sizes": {"bucc2018": {"test": {"gold": 1,
                                                                 "distractors": 500}}}}))
