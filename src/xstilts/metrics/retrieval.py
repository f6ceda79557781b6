"""BUCC pair F1 and Tatoeba accuracy as in XTREME's evaluate.py, in percent; XTREME's order of
Tatoeba predictions.

XTREME's Tatoeba files (utils_preprocess.py) keep LASER's non-English file as it is and sort the
English one by its stripped text (stably). XTREME's retrieval (`similarity_search(x=src, y=tgt)`)
queries with the English sentences, so its prediction file has one line per line of the SORTED
English file: the index (from 0) of the retrieved line of the non-English file. The hidden gold
has the same shape: for sorted English line j, the line of its translation (= its line in LASER's
unsorted English file).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from xstilts.io.errors import DataError
from xstilts.metrics.classification import accuracy


def bucc_scores(
    predictions: Iterable[Sequence[str]], references: Iterable[Sequence[str]]
) -> dict[str, float]:
    """Precision / recall / F1 of predicted (src_id, tgt_id) pairs against gold pairs (as sets).

    No correct pair (including no prediction at all) gives 0 for all three, as evaluate.py does.
    """
    pred = {tuple(p) for p in predictions}
    gold = {tuple(g) for g in references}
    correct = len(pred & gold)
    if correct == 0:
        return {"f1": 0.0, "precision": 0.0, "recall": 0.0}
    precision = correct / len(pred)
    recall = correct / len(gold)
    f1 = 2 * precision * recall / (precision + recall)
    return {"f1": f1 * 100, "precision": precision * 100, "recall": recall * 100}


def retrieval_accuracy(predictions: Sequence[int], references: Sequence[int]) -> dict[str, float]:
    """Tatoeba: share of English lines whose retrieved source line is the gold one (percent)."""
    return accuracy(list(predictions), list(references))


def tatoeba_xtreme_order(
    source_ids: Sequence[str], target_ids: Sequence[str], target_texts: Sequence[str],
    gold: Sequence[tuple[str, str]], where: str,
) -> tuple[list[int], list[int] | None]:
    """(target rows in XTREME's order, gold source row per ordered target row or None).

    Source rows must be in LASER's order (every reader keeps the non-English file as is). With
    gold, every source and target sentence must be in exactly one pair; target rows are then
    ordered as utils_preprocess.py orders LASER's English lines: by stripped text, ties by LASER
    line (= the gold source row). Without gold (XTREME's download withholds it), the target rows
    must already be in that order (XTREME's sorted `<l>-en.en`) and None is returned.
    """
    n_src, n_tgt = len(source_ids), len(target_ids)
    if n_src != n_tgt:
        raise DataError(f"{where}: {n_src} source vs {n_tgt} target sentences; Tatoeba pairs "
                        "every sentence with one translation")
    if not gold:
        keys = [str(t).strip() for t in target_texts]
        bad = next((j for j in range(1, n_tgt) if keys[j] < keys[j - 1]), None)
        if bad is not None:
            raise DataError(f"{where}: no gold, and target row {bad} breaks the sorted order of "
                            "XTREME's <l>-en.en: predictions could not be put in XTREME's order")
        return list(range(n_tgt)), None
    src_row = {s: i for i, s in enumerate(source_ids)}
    tgt_row = {t: j for j, t in enumerate(target_ids)}
    source_of: dict[int, int] = {}
    used: set[int] = set()
    for row, (s, t) in enumerate(gold):
        i, j = src_row.get(s), tgt_row.get(t)
        if i is None or j is None or i in used or j in source_of:
            raise DataError(f"{where}/gold: row {row} ('{s}', '{t}') is not a one-to-one pair "
                            "of a source and a target sentence")
        used.add(i)
        source_of[j] = i
    if len(source_of) != n_tgt:
        raise DataError(f"{where}/gold: {len(source_of)} pairs for {n_tgt} sentences; Tatoeba "
                        "gold pairs every sentence")
    order = sorted(range(n_tgt), key=lambda j: (str(target_texts[j]).strip(), source_of[j]))
    return order, [source_of[j] for j in order]
