"""Extractive-QA post-processing: n-best spans over doc-stride windows -> answer text.

Follows HF's `utils_qa.postprocess_qa_predictions` (examples/pytorch/question-answering): for every
example, all of its features (windows) propose the `n_best` start and end logits; valid spans lie
inside the context, have end >= start and at most `max_answer_length` tokens; the best span by
start + end logit wins. With `null_answers` (SQuAD 2.0), the null score (CLS start + CLS end,
minimum over the windows) wins when it exceeds the best span score + `null_threshold`, giving "".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def postprocess_qa(
    examples: Sequence[Mapping[str, Any]],
    features: Sequence[Mapping[str, Any]],
    start_logits: Sequence[np.ndarray],
    end_logits: Sequence[np.ndarray],
    n_best: int = 20,
    max_answer_length: int = 30,
    null_answers: bool = False,
    null_threshold: float = 0.0,
    cls_index: int = 0,
) -> dict[str, str]:
    """Answer text per example id.

    `examples`: rows with `id` and `context`; `features`: rows with `example_id` and
    `offset_mapping` (None for tokens outside the context); logits: one array per feature (its
    own length, padding removed).
    """
    if not (len(features) == len(start_logits) == len(end_logits)):
        raise ValueError(f"postprocess_qa: {len(features)} features but {len(start_logits)} "
                         f"start / {len(end_logits)} end logit rows")
    by_example: dict[str, list[int]] = defaultdict(list)
    for i, feat in enumerate(features):
        by_example[feat["example_id"]].append(i)
    answers: dict[str, str] = {}
    for ex in examples:
        context = ex["context"]
        best_score, best_text = -np.inf, ""
        min_null = None
        for fi in by_example.get(ex["id"], []):
            starts = np.asarray(start_logits[fi], dtype=np.float64)
            ends = np.asarray(end_logits[fi], dtype=np.float64)
            offsets = features[fi]["offset_mapping"]
            n = min(len(offsets), len(starts), len(ends))
            null_score = starts[cls_index] + ends[cls_index]
            if min_null is None or null_score < min_null:
                min_null = null_score
            top_s = np.argsort(starts[:n])[::-1][:n_best]
            top_e = np.argsort(ends[:n])[::-1][:n_best]
            # the (start, end) candidates as a matrix in the order of a loop over top_s, then
            # top_e; the first maximum wins, as a strict `>` in that loop would pick it
            in_ctx = np.array([offsets[i] is not None for i in range(n)], dtype=bool)
            span = top_e[None, :] - top_s[:, None]
            valid = (in_ctx[top_s][:, None] & in_ctx[top_e][None, :] & (span >= 0)
                     & (span + 1 <= max_answer_length))
            if not valid.any():
                continue
            scores = np.where(valid, starts[top_s][:, None] + ends[top_e][None, :], -np.inf)
            si, ei = np.unravel_index(int(np.argmax(scores)), scores.shape)
            if scores[si, ei] > best_score:
                best_score = scores[si, ei]
                best_text = context[offsets[top_s[si]][0]:offsets[top_e[ei]][1]]
        if null_answers and min_null is not None and min_null > best_score + null_threshold:
            answers[ex["id"]] = ""
        else:
            answers[ex["id"]] = best_text
    return answers
