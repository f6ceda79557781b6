"""Hand-computed cases for xstilts.metrics (official XTREME definitions, percent scores)."""

from __future__ import annotations

import pytest

from xstilts.metrics import (
    METRIC_KEYS,
    accuracy,
    bucc_scores,
    compute,
    mlqa_scores,
    normalize_mlqa,
    normalize_squad,
    records_to_squad,
    retrieval_accuracy,
    seqeval_scores,
    squad_scores,
    task_score,
)
from xstilts.metrics.qa import mixed_segmentation
from xstilts.tasks.benchmark import XTREME_TASKS, group_scores, overall_scores, xtreme_score


def squad(*questions: tuple[str, list[str]]) -> dict:
    """A one-paragraph SQuAD v1.1 dataset with (id, gold answers) questions."""
    qas = [{"id": qid, "question": "?",
            "answers": [{"text": t, "answer_start": 0} for t in golds]}
           for qid, golds in questions]
    paragraph = {"context": "c", "qas": qas}
    return {"version": "1.1", "data": [{"title": "t", "paragraphs": [paragraph]}]}


# ------------------------------------------------------------------ accuracy
def test_accuracy_counts_equal_labels():
    assert accuracy(["a", "b", "c", "a"], ["a", "b", "a", "a"]) == {"accuracy": 75.0}
    assert compute("accuracy", ["1", "0"], ["1", "1"], "de") == {"accuracy": 50.0}


def test_accuracy_on_tag_lists_is_token_level():
    got = accuracy([["A", "B"], ["C"]], [["A", "X"], ["C"]])
    assert got["accuracy"] == pytest.approx(200 / 3)


def test_accuracy_length_mismatch_and_empty():
    with pytest.raises(ValueError, match="3 predictions but 2 references"):
        accuracy(["a", "b", "c"], ["a", "b"])
    with pytest.raises(ValueError, match="sequence 1"):
        accuracy([["A"], ["B", "C"]], [["A"], ["B"]])
    with pytest.raises(ValueError, match="no predictions"):
        accuracy([], [])


def test_retrieval_accuracy():
    assert retrieval_accuracy([1, 2, 3, 4], [1, 2, 0, 4]) == {"accuracy": 75.0}
    assert compute("retrieval_accuracy", [5], [5], "de") == {"accuracy": 100.0}


# ------------------------------------------------------------------ seqeval
def test_seqeval_ner_entities():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG"], ["O", "B-ORG"]]
    # gold: PER, LOC, ORG; predicted: PER, ORG (right), ORG (wrong type) -> P = R = 2/3
    got = seqeval_scores(pred, gold)
    assert got["precision"] == pytest.approx(200 / 3)
    assert got["recall"] == pytest.approx(200 / 3)
    assert got["f1"] == pytest.approx(200 / 3)


def test_seqeval_pos_tags_without_prefix_merge_runs():
    # seqeval reads "NOUN" as tag "N" of type "OUN": equal neighbours merge into one chunk.
    gold = [["DET", "NOUN", "VERB"]]
    pred = [["DET", "NOUN", "NOUN"]]
    # gold chunks DET, NOUN, VERB; predicted DET, NOUN+NOUN -> 1 correct; P=1/2, R=1/3, F1=2/5
    got = compute("seqeval_f1", pred, gold, "en")
    assert got == pytest.approx({"f1": 40.0, "precision": 50.0, "recall": 100 / 3})
    assert set(got) == set(METRIC_KEYS["seqeval_f1"])


def test_seqeval_accepts_tuples_and_checks_lengths():
    assert seqeval_scores([("B-PER", "O")], [("B-PER", "O")])["f1"] == 100.0
    with pytest.raises(ValueError, match="sentence 0 has 1 predicted tags but 2 gold"):
        seqeval_scores([["O"]], [["O", "O"]])
    with pytest.raises(ValueError, match="2 predicted sentences but 1 gold"):
        seqeval_scores([["O"], ["O"]], [["O"]])


def test_seqeval_no_predicted_entity_gives_zero():
    got = seqeval_scores([["O", "O"]], [["B-LOC", "O"]])
    assert got == {"f1": 0.0, "precision": 0.0, "recall": 0.0}


# ------------------------------------------------------------------ SQuAD v1.1
def test_squad_normalization():
    assert normalize_squad("The Cat, sat!") == "cat sat"
    assert normalize_squad("  An apple  a day ") == "apple day"
    assert normalize_squad("Theater") == "theater"  # articles only as whole words
    # only ASCII punctuation: guillemets and CJK punctuation survive
    assert normalize_squad("«Paris»。") == "«paris»。"


def test_squad_em_f1_hand_computed():
    data = squad(("q1", ["Eiffel Tower"]), ("q2", ["a cat on a mat"]),
                 ("q3", ["x"]), ("q4", ["red", "dark red"]))
    preds = {"q1": "The Eiffel Tower.", "q2": "the cat sat on the mat",
             "q4": "dark red", "extra": "ignored"}
    # q1: EM 1 F1 1; q2: tokens [cat sat on mat] vs [cat on mat] -> P 3/4 R 1 F1 6/7;
    # q3: no prediction -> 0; q4: max over golds -> EM 1 F1 1
    got = squad_scores(preds, data)
    assert got["exact_match"] == pytest.approx(50.0)
    assert got["f1"] == pytest.approx(100 * (1 + 6 / 7 + 0 + 1) / 4)
    assert compute("squad", preds, data, "th") == got  # language plays no role


def test_squad_accepts_article_list_and_rejects_bad_structure():
    data = squad(("q1", ["b"]))
    assert squad_scores({"q1": "b"}, data["data"]) == {"exact_match": 100.0, "f1": 100.0}
    with pytest.raises(ValueError, match=r"qas\[0\].*answers"):
        squad_scores({}, {"data": [{"paragraphs": [{"qas": [{"id": "q"}]}]}]})
    with pytest.raises(ValueError, match="no questions"):
        squad_scores({}, {"data": []})


def test_unanswerable_question_needs_empty_prediction():
    data = squad(("q1", []), ("q2", []))
    assert squad_scores({"q1": "", "q2": "something"}, data) == {"exact_match": 50.0, "f1": 50.0}


def test_records_to_squad_groups_paragraphs():
    records = [
        {"id": "1", "title": "T", "context": "C one", "question": "q?",
         "answers": {"text": ["one"], "answer_start": [2]}},
        {"id": "2", "title": "T", "context": "C one", "question": "q2?",
         "answers": {"text": ["C"], "answer_start": [0]}},
        {"id": "3", "title": "U", "context": "D", "question": "q3?",
         "answers": {"text": ["D"], "answer_start": [0]}},
    ]
    data = records_to_squad(records)
    assert [a["title"] for a in data["data"]] == ["T", "U"]
    assert len(data["data"][0]["paragraphs"]) == 1
    assert [q["id"] for q in data["data"][0]["paragraphs"][0]["qas"]] == ["1", "2"]
    got = squad_scores({"1": "one", "2": "C", "3": "nope"}, data)
    assert got["exact_match"] == pytest.approx(200 / 3)


# ------------------------------------------------------------------ MLQA
def test_mlqa_unicode_punctuation_and_english_articles():
    assert normalize_mlqa("The “Eiffel” Tower…", "en") == "eiffel tower"
    assert normalize_mlqa("¿Dónde está el «Museo»?", "es") == "dónde está museo"


@pytest.mark.parametrize(("lang", "text", "expected"), [
    ("es", "La casa de los árboles", "casa de árboles"),
    ("de", "Der Hund und die Katze", "hund und katze"),
    ("vi", "cái bàn của tôi", "bàn tôi"),
    ("hi", "The book", "the book"),  # Hindi: no articles removed
    ("ar", "الكتاب", "كتاب"),
    ("ar", "جمال", "جم"),  # the official rule removes "ال" anywhere in a word
    ("zh", "北京是中国的首都。", "北 京 是 中 国 的 首 都"),
    ("zh", "在2008年北京Olympic Games", "在 2008 年 北 京 olympic games"),
    # not MLQA: neutral rules for mini-XTREME's synthetic languages
    ("synthetic", "The Kato, 北京 «ab»!", "the kato 北 京 ab"),
])
def test_mlqa_language_rules(lang, text, expected):
    assert normalize_mlqa(text, lang) == expected


def test_mixed_segmentation_splits_cjk_and_punctuation():
    assert mixed_segmentation("ab 中c，d") == ["ab", "中", "c", "，", "d"]


def test_mlqa_em_f1_chinese_is_character_level():
    data = squad(("q1", ["北京市"]), ("q2", ["上海"]))
    # q1: [北 京] vs [北 京 市] -> P 1, R 2/3, F1 0.8; q2 exact (punctuation dropped)
    got = mlqa_scores({"q1": "北京", "q2": "上海。"}, data, "zh")
    assert got["exact_match"] == pytest.approx(50.0)
    assert got["f1"] == pytest.approx(90.0)
    # the same strings under SQuAD normalization are single tokens
    assert squad_scores({"q1": "北京", "q2": "上海。"}, data) == {"exact_match": 0.0, "f1": 0.0}


def test_mlqa_unknown_language_is_an_error():
    with pytest.raises(ValueError, match="no rules for language 'fr'"):
        normalize_mlqa("Le chat", "fr")
    with pytest.raises(ValueError, match="'xx'"):
        compute("mlqa", {}, squad(("q", ["a"])), "xx")


# ------------------------------------------------------------------ BUCC
def test_bucc_pair_sets():
    pred = [("de-1", "en-1"), ("de-2", "en-2"), ("de-3", "en-3"), ("de-3", "en-3")]
    gold = [("de-1", "en-1"), ("de-2", "en-9")]
    # 3 distinct predicted pairs, 1 correct: P 1/3, R 1/2, F1 2/5
    got = bucc_scores(pred, gold)
    assert got == pytest.approx({"f1": 40.0, "precision": 100 / 3, "recall": 50.0})
    assert compute("bucc_f1", [["de-1", "en-1"]], gold, "de")["recall"] == 50.0


def test_bucc_without_correct_pair_is_zero():
    assert bucc_scores([], [("a", "b")]) == {"f1": 0.0, "precision": 0.0, "recall": 0.0}
    assert bucc_scores([("a", "c")], [("a", "b")])["f1"] == 0.0


# ------------------------------------------------------------------ aggregation
def test_task_score_rules():
    assert task_score("squad", {"exact_match": 50.0, "f1": 70.0}) == 60.0
    assert task_score("mlqa", {"exact_match": 10.0, "f1": 20.0}) == 15.0
    assert task_score("seqeval_f1", {"f1": 40.0, "precision": 1.0, "recall": 2.0}) == 40.0
    assert task_score("bucc_f1", {"f1": 30.0, "precision": 1.0, "recall": 2.0}) == 30.0
    assert task_score("accuracy", {"accuracy": 80.0}) == 80.0
    with pytest.raises(ValueError, match="exact_match"):
        task_score("squad", {"f1": 1.0})
    with pytest.raises(ValueError, match="neither"):
        task_score("accuracy", {"loss": 1.0})


def test_xtreme_and_group_scores():
    scores = {t: float(i) for i, t in enumerate(XTREME_TASKS, start=1)}
    assert xtreme_score(scores) == 5.0
    groups = group_scores(scores)
    assert groups["classification"] == (scores["pawsx"] + scores["xnli"]) / 2
    assert groups["qa"] == (scores["xquad"] + scores["mlqa"] + scores["tydiqa"]) / 3
    assert overall_scores(scores)["all_task"] == 5.0
    partial = {"pawsx": 10.0, "xnli": 20.0, "udpos": 5.0}
    assert group_scores(partial) == {"classification": 15.0}
    assert "all_task" not in overall_scores(partial)
    with pytest.raises(ValueError, match="missing"):
        xtreme_score(partial)


def test_compute_rejects_unknown_metric():
    with pytest.raises(ValueError, match="mlm_loss"):
        compute("mlm_loss", [], [], "en")
