"""Extractive-QA exact match and F1: SQuAD v1.1 and MLQA (language-aware) definitions.

Both follow the official scripts used by XTREME's evaluate.py: an answer is lower-cased,
stripped of punctuation and articles and re-tokenized; EM and F1 are maxed over the gold
answers and averaged over all gold questions (a question without a prediction scores 0).
XQuAD and TyDiQA use the English SQuAD v1.1 normalization for every language.
"""

from __future__ import annotations

import logging
import re
import string
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cache
from typing import Any

log = logging.getLogger(__name__)

Normalizer = Callable[[str], str]

# ------------------------------------------------------------------ SQuAD v1.1 normalization
_SQUAD_PUNCT = frozenset(string.punctuation)
_SQUAD_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_squad(text: str) -> str:
    """SQuAD v1.1: lower, drop ASCII punctuation, English articles, collapse whitespace."""
    text = "".join(ch for ch in text.lower() if ch not in _SQUAD_PUNCT)
    text = _SQUAD_ARTICLES.sub(" ", text)
    return " ".join(text.split())


# ------------------------------------------------------------------ MLQA normalization
SYNTHETIC_LANGUAGE = "synthetic"
_MLQA_ARTICLES: dict[str, re.Pattern[str] | None] = {
    "en": re.compile(r"\b(a|an|the)\b"),
    "es": re.compile(r"\b(un|una|unos|unas|el|la|los|las)\b"),
    "hi": None,  # no formal articles
    "vi": re.compile(r"\b(của|là|cái|chiếc|những)\b"),
    "de": re.compile(r"\b(ein|eine|einen|einem|eines|einer|der|die|das|den|dem|des)\b"),
    # The official pattern is '\sال^|ال'; its first branch can never match, so it replaces
    # every occurrence of the prefix "ال".
    "ar": re.compile("ال"),
    "zh": None,  # no formal articles
    # Not part of MLQA: a neutral rule set for mini-XTREME's synthetic languages (Unicode
    # punctuation removed, no articles, Han characters split as for Chinese).
    SYNTHETIC_LANGUAGE: None,
}
_WHITESPACE_LANGS = frozenset({"en", "es", "hi", "vi", "de", "ar"})
_MIXED_SEGMENTATION_LANGS = frozenset({"zh", SYNTHETIC_LANGUAGE})
MLQA_LANGUAGES: tuple[str, ...] = tuple(sorted(_MLQA_ARTICLES))
_CJK = re.compile(r"[\u4e00-\u9fa5]")


@cache
def mlqa_punctuation() -> frozenset[str]:
    """Every Unicode character of a punctuation category (P*) plus ASCII punctuation."""
    chars = {chr(i) for i in range(sys.maxunicode) if unicodedata.category(chr(i)).startswith("P")}
    return frozenset(chars | set(string.punctuation))


def mixed_segmentation(text: str) -> list[str]:
    """Split CJK ideographs and punctuation into single-character tokens, the rest on spaces."""
    punct = mlqa_punctuation()
    tokens: list[str] = []
    pending = ""
    for char in text:
        if _CJK.search(char) or char in punct:
            if pending:
                tokens.extend(pending.split())
                pending = ""
            tokens.append(char)
        else:
            pending += char
    if pending:
        tokens.extend(pending.split())
    return tokens


def _check_mlqa_language(lang: str) -> None:
    if lang not in _MLQA_ARTICLES:
        raise ValueError(
            f"MLQA normalization has no rules for language '{lang}'; "
            f"known languages: {', '.join(MLQA_LANGUAGES)}"
        )


def normalize_mlqa(text: str, lang: str) -> str:
    """MLQA: lower, drop Unicode punctuation, the language's articles, re-tokenize."""
    _check_mlqa_language(lang)
    punct = mlqa_punctuation()
    text = "".join(ch for ch in text.lower() if ch not in punct)
    articles = _MLQA_ARTICLES[lang]
    if articles is not None:
        text = articles.sub(" ", text)
    tokens = mixed_segmentation(text) if lang in _MIXED_SEGMENTATION_LANGS else text.split()
    return " ".join(t for t in tokens if t.strip() != "")


def mlqa_normalizer(lang: str) -> Normalizer:
    """`normalize_mlqa` bound to `lang` (raises at once for an unknown language)."""
    _check_mlqa_language(lang)
    return lambda text: normalize_mlqa(text, lang)


# ------------------------------------------------------------------ scores
def f1_tokens(prediction: str, gold: str, normalize: Normalizer) -> float:
    """Bag-of-tokens F1 between two normalized answers (0 when nothing overlaps)."""
    pred_tokens = normalize(prediction).split()
    gold_tokens = normalize(gold).split()
    same = sum((Counter(pred_tokens) & Counter(gold_tokens)).values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, gold: str, normalize: Normalizer) -> float:
    return float(normalize(prediction) == normalize(gold))


def _articles(dataset: Mapping[str, Any] | list[Any]) -> list[Any]:
    if isinstance(dataset, Mapping):
        if "data" not in dataset:
            raise ValueError("SQuAD dataset: top-level object has no 'data' key")
        dataset = dataset["data"]
    if not isinstance(dataset, list):
        raise ValueError("SQuAD dataset: 'data' must be a list of articles")
    return dataset


def iter_questions(dataset: Mapping[str, Any] | list[Any]) -> Iterator[tuple[str, list[str]]]:
    """(question id, gold answer texts) for every question of a SQuAD-format dataset."""
    for a, article in enumerate(_articles(dataset)):
        if not isinstance(article, Mapping) or "paragraphs" not in article:
            raise ValueError(f"SQuAD dataset: data[{a}] has no 'paragraphs'")
        for p, paragraph in enumerate(article["paragraphs"]):
            if not isinstance(paragraph, Mapping) or "qas" not in paragraph:
                raise ValueError(f"SQuAD dataset: data[{a}].paragraphs[{p}] has no 'qas'")
            for q, qa in enumerate(paragraph["qas"]):
                where = f"data[{a}].paragraphs[{p}].qas[{q}]"
                if not isinstance(qa, Mapping) or "id" not in qa:
                    raise ValueError(f"SQuAD dataset: {where} has no 'id'")
                answers = qa.get("answers")
                if not isinstance(answers, list) or not all(
                    isinstance(ans, Mapping) and "text" in ans for ans in answers
                ):
                    raise ValueError(
                        f"SQuAD dataset: {where} (id {qa['id']}): 'answers' must be a list of "
                        "objects with a 'text'"
                    )
                yield str(qa["id"]), [str(ans["text"]) for ans in answers]


def qa_scores(
    predictions: Mapping[str, str],
    dataset: Mapping[str, Any] | list[Any],
    normalize: Normalizer,
) -> dict[str, float]:
    """EM and F1 (percent) of `predictions` {id: answer} over every question of `dataset`.

    A question with no gold answer (SQuAD 2.0 unanswerable) counts as correct iff the
    prediction normalizes to the empty string, as in SQuAD 2.0's script. Blank gold answers
    (`text: ""`, withheld test labels) raise ValueError: they are not "unanswerable".
    """
    em_total = f1_total = 0.0
    total = 0
    missing = 0
    for qid, golds in iter_questions(dataset):
        if golds and all(g == "" for g in golds):
            # `{answer_start: 0, text: ""}`: google-research/xtreme's download removes test
            # answers this way; an empty prediction would "match" it
            raise ValueError(f"question {qid}: the gold answers are blank placeholders (test "
                             "labels withheld by the official XTREME download); refusing to score")
        total += 1
        if qid not in predictions:
            missing += 1
            continue
        prediction = predictions[qid]
        if not golds:
            hit = float(normalize(prediction) == "")
            em_total += hit
            f1_total += hit
            continue
        em_total += max(exact_match(prediction, g, normalize) for g in golds)
        f1_total += max(f1_tokens(prediction, g, normalize) for g in golds)
    if total == 0:
        raise ValueError("SQuAD dataset has no questions to score")
    if missing:
        log.warning("%d of %d questions have no prediction and score 0", missing, total)
    return {"exact_match": 100.0 * em_total / total, "f1": 100.0 * f1_total / total}


def squad_scores(
    predictions: Mapping[str, str], dataset: Mapping[str, Any] | list[Any]
) -> dict[str, float]:
    """SQuAD v1.1 EM/F1 (XQuAD, TyDiQA-GoldP, SQuAD)."""
    return qa_scores(predictions, dataset, normalize_squad)


def mlqa_scores(
    predictions: Mapping[str, str], dataset: Mapping[str, Any] | list[Any], lang: str
) -> dict[str, float]:
    """MLQA EM/F1 with the answer language's normalization; unknown language -> ValueError."""
    return qa_scores(predictions, dataset, mlqa_normalizer(lang))


def records_to_squad(records: Iterable[Mapping[str, Any]], version: str = "1.1") -> dict[str, Any]:
    """Canonical QA records (id, title, context, question, answers) -> a SQuAD-format dict.

    Articles are grouped by title and paragraphs by context, in first-seen order.
    """
    articles: dict[str, dict[str, Any]] = {}
    paragraphs: dict[tuple[str, str], dict[str, Any]] = {}
    for i, rec in enumerate(records):
        for key in ("id", "context", "question", "answers"):
            if key not in rec:
                raise ValueError(f"QA record {i}: missing key '{key}'")
        title = str(rec.get("title", ""))
        context = str(rec["context"])
        article = articles.setdefault(title, {"title": title, "paragraphs": []})
        para = paragraphs.get((title, context))
        if para is None:
            para = {"context": context, "qas": []}
            paragraphs[(title, context)] = para
            article["paragraphs"].append(para)
        answers = rec["answers"]
        texts = list(answers.get("text", []))
        starts = list(answers.get("answer_start", []))
        if len(texts) != len(starts):
            raise ValueError(
                f"QA record {i} (id {rec['id']}): {len(texts)} answer texts but "
                f"{len(starts)} answer starts"
            )
        para["qas"].append({
            "id": str(rec["id"]),
            "question": str(rec["question"]),
            "answers": [
                {"text": str(t), "answer_start": int(s)} for t, s in zip(texts, starts, strict=True)
            ],
        })
    return {"version": version, "data": list(articles.values())}
