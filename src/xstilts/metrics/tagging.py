"""Entity-level F1 / precision / recall with seqeval, called exactly as XTREME's evaluate.py.

evaluate.py calls `seqeval.metrics.{f1,precision,recall}_score(labels, predictions)` with the
defaults (default mode, no scheme, micro average), also for UD-POS tags that have no B-/I-
prefix; the result depends on the seqeval version (pinned to 1.2.2).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

SEQEVAL_VERSION = "1.2.2"


def seqeval_scores(
    predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]]
) -> dict[str, float]:
    """seqeval entity F1, precision and recall (percent) over lists of tag lists."""
    if len(predictions) != len(references):
        raise ValueError(
            f"seqeval: {len(predictions)} predicted sentences but {len(references)} gold sentences"
        )
    for i, (p, r) in enumerate(zip(predictions, references, strict=True)):
        if isinstance(p, str) or isinstance(r, str):
            raise ValueError(f"seqeval: sentence {i} must be a list of tags, not a string")
        if len(p) != len(r):
            raise ValueError(
                f"seqeval: sentence {i} has {len(p)} predicted tags but {len(r)} gold tags"
            )
    # imported here: seqeval pulls in scikit-learn, which is slow to import
    from seqeval.metrics import f1_score, precision_score, recall_score

    # seqeval flattens only `list` sentences (not tuples): hand it lists of str.
    y_pred = [[str(t) for t in sent] for sent in predictions]
    y_true = [[str(t) for t in sent] for sent in references]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*seems not to be NE tag")
        warnings.filterwarnings("ignore", category=UserWarning, module="seqeval")
        warnings.filterwarnings("ignore", message=".*ill-defined")
        f1 = f1_score(y_true, y_pred)
        precision = precision_score(y_true, y_pred)
        recall = recall_score(y_true, y_pred)
    return {
        "f1": float(f1 * 100),
        "precision": float(precision * 100),
        "recall": float(recall * 100),
    }
