"""Canonical per-format schemas that every data source must produce.

One schema per format, as HF `datasets.Features`:

- classification: id, text_a, text_b ("" for single-sentence tasks), label (ClassLabel)
- multiple_choice: id, context, question, choices (list of str), label (int64)
- qa: id, title, context, question, answers {text: [str], answer_start: [int32]}
  (SQuAD layout; empty lists = unanswerable)
- tagging: id, tokens (list of str), tags (list of ClassLabel)
- mlm: id, lang, text
- retrieval: a DatasetDict with "source" (id, text), "target" (id, text) and
  "gold" (source_id, target_id); Tatoeba's gold pairs row i with row i.
"""

from __future__ import annotations

from datasets import ClassLabel, Features, Sequence, Value

from xstilts.io.errors import DataError  # noqa: F401  (defined apart: no datasets import)
from xstilts.tasks.registry import TaskSpec


def features_for(task: TaskSpec, labels: list[str] | None = None) -> Features | dict[str, Features]:
    """Canonical features of `task`; `labels` overrides open label sets (e.g. CCG)."""
    names = list(labels if labels is not None else task.labels)
    string = Value("string")
    if task.format == "classification":
        return Features({"id": string, "text_a": string, "text_b": string,
                         "label": ClassLabel(names=names)})
    if task.format == "multiple_choice":
        return Features({"id": string, "context": string, "question": string,
                         "choices": Sequence(string), "label": Value("int64")})
    if task.format == "qa":
        return Features({"id": string, "title": string, "context": string, "question": string,
                         "answers": Sequence({"text": string, "answer_start": Value("int32")})})
    if task.format == "tagging":
        return Features({"id": string, "tokens": Sequence(string),
                         "tags": Sequence(ClassLabel(names=names))})
    if task.format == "mlm":
        return Features({"id": string, "lang": string, "text": string})
    if task.format == "retrieval":
        side = Features({"id": string, "text": string})
        return {"source": side, "target": side,
                "gold": Features({"source_id": string, "target_id": string})}
    raise ValueError(f"task '{task.name}': unknown format '{task.format}'")
