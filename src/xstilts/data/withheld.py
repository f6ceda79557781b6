"""Withheld gold: a split whose labels were blanked is refused, never scored.

google-research/xtreme's `download_data.sh` + `utils_preprocess.py` remove the test annotations
"to prevent accidental cheating": XQuAD, MLQA test and TyDiQA-GoldP dev answers become
`{answer_start: 0, text: ""}`, XNLI/PAWS-X test rows lose their label column, UD-POS/PAN-X test
files keep the tokens only, and every XCOPA test label is set to 0. Scoring such a split gives a
number that means nothing (empty predictions "match" blank answers), so `check_gold` raises
`WithheldLabelsError` with one line naming the file and saying what to do.
"""

from __future__ import annotations

from typing import Any

from xstilts.data.schema import DataError
from xstilts.grid.config import EVAL_SPLITS
from xstilts.tasks.registry import TaskSpec

ADVICE = ("google-research/xtreme's download_data.sh blanks test labels; evaluate on dev "
          "(benchmark.eval_split: validation for this task) or point benchmark.gold_path at the "
          "unblanked originals (e.g. deepmind/xquad's xquad.<lang>.json)")


def reported_split(bench: dict[str, Any], task: str) -> str:
    """The split a target's scores are reported on: `benchmark.eval_split`, a split name or a
    mapping {task: split, default: split}; "auto" = test when its gold is there, else
    validation. Default "test"."""
    value = bench.get("eval_split") or "test"
    if isinstance(value, dict):
        value = value.get(task, value.get("default", "test"))
    if value not in EVAL_SPLITS:
        raise DataError(f"benchmark.eval_split: {value!r} for task '{task}' is not one of "
                        f"{EVAL_SPLITS}")
    return str(value)


class WithheldLabelsError(DataError):
    """The split's gold labels were removed (blanked) by the official download."""


def _missing(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, int) and value == -1)


def _blank_qa(rec: dict[str, Any]) -> bool:
    """True when every answer of a question is a blank placeholder ({text: ""})."""
    texts = list(rec["answers"].get("text") or [])
    return bool(texts) and all(str(t) == "" for t in texts)


def problem(task: TaskSpec, split: str, records: Any, real: bool = True
            ) -> tuple[str, bool] | None:
    """(what is wrong, whether the whole split is withheld) or None when the gold is usable.

    Multiple choice: a real (`real`, i.e. not mini-XTREME, whose tiny test sets may be all 0 by
    chance) test split whose labels are all 0 is the XCOPA placeholder (only test files are
    rewritten; a train split may legitimately start with 0s)."""
    if task.format == "retrieval" or task.format == "mlm" or not isinstance(records, list):
        return None
    n = len(records)
    if n == 0:
        return None
    if task.format == "qa":
        blank = [i for i, r in enumerate(records) if _blank_qa(r)]
        if len(blank) == n:
            return f"all {n} answers are blank ({{answer_start: 0, text: \"\"}})", True
        if blank:
            return (f"{len(blank)} of {n} questions have only blank answers (first: row "
                    f"{blank[0]}, id {records[blank[0]]['id']!r})", False)
        if not task.unanswerable:
            # an extractive task without unanswerable questions: a question without an answer
            # is a removed annotation (some readers drop blank answers), not "unanswerable"
            none = [i for i, r in enumerate(records) if not r["answers"].get("text")]
            if len(none) == n:
                return f"none of the {n} questions has an answer", True
            if none:
                return (f"{len(none)} of {n} questions have no answer (first: row {none[0]}, "
                        f"id {records[none[0]]['id']!r}) in a task without unanswerable "
                        "questions", False)
        return None
    if task.format == "tagging":
        rows = [i for i, r in enumerate(records) if any(_missing(t) for t in r["tags"])]
        if len(rows) == n and all(_missing(t) for r in records for t in r["tags"]):
            return f"all {n} sentences have tokens but no tags", True
        if rows:
            return f"row {rows[0]} (id {records[rows[0]]['id']!r}) has tokens without tags", False
        return None
    labels = [r["label"] for r in records]
    missing = [i for i, x in enumerate(labels) if _missing(x)]
    if len(missing) == n:
        return f"none of the {n} rows has a label", True
    if missing:
        return f"row {missing[0]} (id {records[missing[0]]['id']!r}) has no label", False
    if (real and task.format == "multiple_choice" and split == "test" and n >= 2
            and all(int(x) == 0 for x in labels)):
        return f"all {n} labels are 0 (the official XCOPA preprocessing's placeholder)", True
    return None


def check_gold(task: TaskSpec, split: str, records: Any, where: str, real: bool = True) -> None:
    """Raise WithheldLabelsError (one line naming `where`) when the split's gold is unusable."""
    found = problem(task, split, records, real)
    if found is None:
        return
    what, withheld = found
    if withheld:
        raise WithheldLabelsError(f"{where}: gold labels withheld: {what}; {ADVICE}")
    raise WithheldLabelsError(f"{where}: incomplete gold labels: {what}; a split is scored only "
                              f"when every example has its label ({ADVICE})")
