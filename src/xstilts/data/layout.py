"""`write_canonical`: canonical records -> the raw on-disk layout the adapters read.

The inverse of `xstilts.data.load.read_records` for the synthetic (mini-XTREME) source:

- targets: google-research/xtreme's `download/` layout under `<root>/xtreme/` (XQuAD/MLQA
  `train` goes to the train task, squad_v1; XCOPA's to copa); targets outside that layout
  (tweet_sentiment) are stored like intermediate tasks, in their hub's column names
- intermediate tasks: JSONL in their hub datasets' column names under `<root>/hub/<task>/`
  (`<split>.jsonl`; translated copies `<split>-<lang>.jsonl` when lang != "en")
- CCG: CCGbank AUTO files under `<root>/ccgbank/data/AUTO/<section>/` (translated copies under
  `<root>/ccgbank/translated-<lang>/`)
- mlm: `<root>/mlm/<lang>.txt` (train) or `<root>/mlm/<lang>.<split>.txt`

Bytes are deterministic: sorted JSON keys, '\\n' newlines, UTF-8, no floats.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xstilts.data import hub, xtreme_dir
from xstilts.data.load import mlm_path
from xstilts.data.schema import DataError
from xstilts.tasks.registry import TaskSpec, get_task


def _as_records(records: Any) -> Any:
    """Accept a datasets.Dataset / DatasetDict as well as plain records."""
    if hasattr(records, "to_list"):
        return records.to_list()
    if hasattr(records, "keys") and all(hasattr(records[k], "to_list") for k in records):
        return {k: records[k].to_list() for k in records}
    return records


def write_canonical(task: TaskSpec | str, split: str, lang: str, records: list[dict] | dict,
                    root: Path, labels: list[str] | None = None) -> list[Path]:
    """Write canonical records of `task`/`split`/`lang` under `root`; return the files written.

    `labels` names label ids for open label sets (CCG); labels may be ids or names.
    XQuAD/MLQA `train` records are written as the train task's (squad_v1) train split.
    """
    task = get_task(task) if isinstance(task, str) else task
    root = Path(root)
    records = _as_records(records)
    if split not in task.splits:
        raise DataError(f"task '{task.name}' has no split '{split}' (has {list(task.splits)})")
    if task.format == "mlm":
        path = mlm_path(root, split, lang)
        lines = []
        for i, rec in enumerate(records):
            text = str(rec["text"])
            if "\n" in text or "\r" in text or not text.strip():
                raise DataError(f"{path}: row {i}: MLM text must be one non-empty line")
            lines.append(text)
        return [xtreme_dir.write_text(path, "".join(x + "\n" for x in lines))]
    if "ccgbank" in task.sources:
        names = list(labels if labels is not None else task.labels)
        return [xtreme_dir.write_ccg(xtreme_dir.ccg_root(root / "ccgbank", lang), split,
                                     records, names, xtreme_dir.ccg_sections(task))]
    if task.train_task and split == "train":
        return write_canonical(get_task(task.train_task), split, "en", records, root, labels)
    if task.role == "target" and "xtreme_dir" in task.sources:
        return xtreme_dir.write_split(task, split, lang, records, root / "xtreme", labels)
    return [hub.write_local(task, split, lang, records, root, labels)]
