"""QA post-processing on hand-made windows and logits."""

from __future__ import annotations

import numpy as np

from xstilts.engine.qa import postprocess_qa

CONTEXT = "aa bb cc dd ee ff"
#          0  3  6  9  12 15
# Two stride windows over the context; positions 0-2 are CLS + question (+ sep): no offsets.
W1 = [None, None, None, [0, 2], [3, 5], [6, 8], [9, 11], None]
W2 = [None, None, None, [6, 8], [9, 11], [12, 14], [15, 17], None]
EXAMPLES = [{"id": "x", "context": CONTEXT}]
FEATURES = [{"example_id": "x", "offset_mapping": W1}, {"example_id": "x", "offset_mapping": W2}]


def logits(peaks: dict[int, float], n: int = 8) -> np.ndarray:
    out = np.full(n, -5.0)
    for i, v in peaks.items():
        out[i] = v
    return out


def test_best_span_comes_from_the_second_window():
    starts = [logits({3: 1.0}), logits({5: 3.0})]
    ends = [logits({4: 1.0}), logits({6: 2.5})]
    answers = postprocess_qa(EXAMPLES, FEATURES, starts, ends)
    assert answers == {"x": "ee ff"}


def test_question_tokens_and_reversed_spans_are_ignored():
    # huge logits on question tokens (no offsets) and an end before the start
    starts = [logits({1: 50.0, 6: 4.0, 4: 0.5}), logits({})]
    ends = [logits({2: 50.0, 5: 4.0, 6: 0.4}), logits({})]
    answers = postprocess_qa(EXAMPLES, FEATURES, starts, ends)
    # start 6 + end 5 (8.0) is reversed; best valid: start 4 ("bb") + end 5 ("cc") = 4.5
    assert answers == {"x": "bb cc"}


def test_max_answer_length():
    starts = [logits({3: 3.0, 5: 1.0}), logits({})]
    ends = [logits({6: 3.0, 5: 1.5}), logits({})]
    assert postprocess_qa(EXAMPLES, FEATURES, starts, ends)["x"] == "aa bb cc dd"
    assert postprocess_qa(EXAMPLES, FEATURES, starts, ends, max_answer_length=2)["x"] == "cc dd"


def test_null_answer_wins_only_for_unanswerable_tasks():
    starts = [logits({0: 4.0, 4: 1.0}), logits({0: 5.0, 4: 0.5})]
    ends = [logits({0: 4.0, 4: 1.0}), logits({0: 5.0, 4: 0.5})]
    # null score = min over windows of CLS start + end = 8 > best span 2
    assert postprocess_qa(EXAMPLES, FEATURES, starts, ends, null_answers=True) == {"x": ""}
    assert postprocess_qa(EXAMPLES, FEATURES, starts, ends, null_answers=False) == {"x": "bb"}
    # a span better than the null score wins even with null answers
    starts[1] = logits({0: 5.0, 5: 9.0})
    ends[1] = logits({0: 5.0, 5: 9.0})
    assert postprocess_qa(EXAMPLES, FEATURES, starts, ends, null_answers=True) == {"x": "ee"}


def test_example_without_features_gets_empty_answer():
    answers = postprocess_qa(EXAMPLES + [{"id": "y", "context": "zz"}], FEATURES,
                             [logits({3: 1.0}), logits({})], [logits({3: 1.0}), logits({})])
    assert answers == {"x": "aa", "y": ""}


def _loop_answer(context, windows, starts, ends, n_best, max_len):
    """HF utils_qa's candidate loop: top starts x top ends, the first strictly better wins."""
    best, text = -np.inf, ""
    for offsets, st, en in zip(windows, starts, ends, strict=True):
        for s in np.argsort(st)[::-1][:n_best]:
            for e in np.argsort(en)[::-1][:n_best]:
                if (offsets[s] is None or offsets[e] is None or e < s
                        or e - s + 1 > max_len):
                    continue
                if st[s] + en[e] > best:
                    best, text = st[s] + en[e], context[offsets[s][0]:offsets[e][1]]
    return text


def test_span_choice_matches_the_candidate_loop_with_ties() -> None:
    rng = np.random.default_rng(0)
    context = "".join(rng.choice(list("abc ")) for _ in range(300))
    for _ in range(200):
        windows, starts, ends = [], [], []
        for _ in range(int(rng.integers(1, 4))):
            n = int(rng.integers(4, 40))
            q = int(rng.integers(1, n - 1))
            offsets = [None] * q + [[3 * i, 3 * i + 2] for i in range(n - q)]
            if rng.random() < 0.3:
                offsets[-1] = None
            windows.append(offsets)
            # small integer logits: many ties, where the order of candidates decides
            starts.append(rng.integers(-2, 3, n).astype(float))
            ends.append(rng.integers(-2, 3, n).astype(float))
        n_best, max_len = int(rng.integers(2, 21)), int(rng.integers(1, 31))
        feats = [{"example_id": "x", "offset_mapping": w} for w in windows]
        got = postprocess_qa([{"id": "x", "context": context}], feats, starts, ends,
                             n_best=n_best, max_answer_length=max_len)["x"]
        assert got == _loop_answer(context, windows, starts, ends, n_best, max_len)
