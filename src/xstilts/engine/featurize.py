"""Batched fast-tokenizer featurization per task format (no padding: the collator pads).

Output columns (plus `length`, the number of tokens, used for length-grouped sampling):

- classification: input_ids, attention_mask, labels
- multiple_choice: input_ids/attention_mask of shape [n_choices, len], labels
- qa (train): input_ids, attention_mask, start_positions, end_positions (CLS index when the
  answer is absent or outside the window); (eval): input_ids, attention_mask, example_id,
  offset_mapping (None outside the context), as HF's run_qa.py
- tagging: input_ids, attention_mask, labels (first sub-word only, -100 elsewhere), word_ids
  (-1 for special tokens; used to map predictions back to words)
- mlm: input_ids, attention_mask, special_tokens_mask (masking happens in the collator)

`token_type_ids` is kept when the tokenizer produces it (e.g. mBERT).
In-memory datasets are not cached (featurizing is fast); file-backed ones use datasets'
fingerprint cache next to their data.
"""

from __future__ import annotations

import hashlib
from typing import Any

from xstilts.data.schema import DataError
from xstilts.tasks.registry import TaskSpec

MAX_QUERY_TOKENS = 64  # xtreme's run_squad.py max_query_length (capped at max_length // 4)
MAP_BATCH = 1000


def _passthrough(enc: Any) -> dict[str, list]:
    out = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}
    if "token_type_ids" in enc:
        out["token_type_ids"] = enc["token_type_ids"]
    return out


def _classification(batch: dict, tok: Any, max_length: int) -> dict[str, list]:
    pairs = any(b for b in batch["text_b"])
    enc = tok(batch["text_a"], batch["text_b"] if pairs else None, truncation=True,
              max_length=max_length)
    out = _passthrough(enc)
    out["labels"] = list(batch["label"])
    out["length"] = [len(x) for x in enc["input_ids"]]
    return out


def _multiple_choice(batch: dict, tok: Any, max_length: int, task: TaskSpec) -> dict[str, list]:
    first, second, sizes = [], [], []
    for i, (context, question, choices) in enumerate(
            zip(batch["context"], batch["question"], batch["choices"], strict=True)):
        if task.num_choices and len(choices) != task.num_choices:
            raise DataError(f"task '{task.name}': row id={batch['id'][i]!r} has {len(choices)} "
                            f"choices, expected num_choices={task.num_choices}")
        for choice in choices:
            if context:
                first.append(context)
                second.append(f"{question} {choice}".strip())
            else:
                first.append(question)
                second.append(choice)
        sizes.append(len(choices))
    enc = tok(first, second, truncation=True, max_length=max_length)
    flat = _passthrough(enc)
    out: dict[str, list] = {k: [] for k in flat}
    start = 0
    for n in sizes:
        for k, v in flat.items():
            out[k].append(v[start:start + n])
        start += n
    out["labels"] = list(batch["label"])
    out["length"] = [max(len(x) for x in ids) * len(ids) for ids in out["input_ids"]]
    return out


def max_query_tokens(max_length: int) -> int:
    return min(MAX_QUERY_TOKENS, max_length // 4)


def qa_stride(tok: Any, max_length: int, doc_stride: int) -> int:
    """Window overlap (HF `stride`), clamped to half the context budget of a window."""
    budget = max_length - max_query_tokens(max_length) - tok.num_special_tokens_to_add(pair=True)
    if budget < 8:
        raise ValueError(f"max_length={max_length} too small for QA")
    return max(0, min(doc_stride, budget // 2))


def _truncate_questions(questions: list[str], tok: Any, max_length: int) -> list[str]:
    """Strip left whitespace (as run_qa) and cut questions to `max_query_tokens` tokens."""
    limit = max_query_tokens(max_length)
    questions = [q.lstrip() for q in questions]
    enc = tok(questions, add_special_tokens=False, return_offsets_mapping=True)
    out = []
    for q, offsets in zip(questions, enc["offset_mapping"], strict=True):
        out.append(q[:offsets[limit - 1][1]] if len(offsets) > limit else q)
    return out


def _qa(batch: dict, tok: Any, max_length: int, doc_stride: int, training: bool) -> dict:
    pad_right = tok.padding_side == "right"
    if not pad_right:
        raise ValueError("QA featurization expects a right-padding tokenizer (question first)")
    questions = _truncate_questions(batch["question"], tok, max_length)
    enc = tok(questions, batch["context"], truncation="only_second", max_length=max_length,
              stride=qa_stride(tok, max_length, doc_stride), return_overflowing_tokens=True,
              return_offsets_mapping=True)
    sample_map = enc.pop("overflow_to_sample_mapping")
    out = _passthrough(enc)
    out["length"] = [len(x) for x in enc["input_ids"]]
    if training:
        out["start_positions"], out["end_positions"] = [], []
    else:
        out["example_id"], out["offset_mapping"] = [], []
    for i, offsets in enumerate(enc["offset_mapping"]):
        seq_ids = enc.sequence_ids(i)
        ex = sample_map[i]
        if not training:
            out["example_id"].append(batch["id"][ex])
            out["offset_mapping"].append(
                [list(o) if seq_ids[k] == 1 else None for k, o in enumerate(offsets)])
            continue
        ids = enc["input_ids"][i]
        cls_index = ids.index(tok.cls_token_id) if tok.cls_token_id in ids else 0
        answers = batch["answers"][ex]
        if not answers["answer_start"]:
            out["start_positions"].append(cls_index)
            out["end_positions"].append(cls_index)
            continue
        start_char = int(answers["answer_start"][0])
        end_char = start_char + len(answers["text"][0])
        ctx_start = seq_ids.index(1)
        ctx_end = len(seq_ids) - 1 - seq_ids[::-1].index(1)
        if not (offsets[ctx_start][0] <= start_char and offsets[ctx_end][1] >= end_char):
            out["start_positions"].append(cls_index)
            out["end_positions"].append(cls_index)
            continue
        s = ctx_start
        while s <= ctx_end and offsets[s][0] <= start_char:
            s += 1
        e = ctx_end
        while e >= ctx_start and offsets[e][1] >= end_char:
            e -= 1
        out["start_positions"].append(s - 1)
        out["end_positions"].append(e + 1)
    return out


def _tagging(batch: dict, tok: Any, max_length: int) -> dict[str, list]:
    enc = tok(batch["tokens"], is_split_into_words=True, truncation=True, max_length=max_length)
    out = _passthrough(enc)
    out["labels"], out["word_ids"] = [], []
    for i, tags in enumerate(batch["tags"]):
        word_ids = enc.word_ids(i)
        labels, prev = [], None
        for w in word_ids:
            labels.append(-100 if w is None or w == prev else int(tags[w]))
            prev = w
        out["labels"].append(labels)
        out["word_ids"].append([-1 if w is None else w for w in word_ids])
    out["length"] = [len(x) for x in enc["input_ids"]]
    return out


def _mlm(batch: dict, tok: Any, max_length: int) -> dict[str, list]:
    enc = tok(batch["text"], truncation=True, max_length=max_length,
              return_special_tokens_mask=True)
    out = _passthrough(enc)
    out["special_tokens_mask"] = enc["special_tokens_mask"]
    out["length"] = [len(x) for x in enc["input_ids"]]
    if "token_type_ids" in out and tok.sep_token_id is not None:
        # TLM "a <sep> b": the second sentence is segment 1, as in a tokenized pair (BERT)
        for k, ids in enumerate(out["input_ids"]):
            inner = [i for i in range(1, len(ids) - 1) if ids[i] == tok.sep_token_id]
            if inner:
                out["token_type_ids"][k] = [0] * (inner[0] + 1) + [1] * (len(ids) - inner[0] - 1)
    return out


def featurize(task: TaskSpec, ds: Any, tokenizer: Any, max_length: int, doc_stride: int = 128,
              for_training: bool = True) -> Any:
    """Featurize a canonical Dataset of `task` for its head (see the module docstring)."""
    fmt = task.format
    limit = getattr(tokenizer, "model_max_length", None)
    if limit and limit < 10**6:  # never past the model's positions (e.g. a tiny model's 128)
        max_length = min(max_length, int(limit))
        doc_stride = min(doc_stride, max_length // 2)
    if fmt == "classification":
        fn, kwargs = _classification, {"tok": tokenizer, "max_length": max_length}
    elif fmt == "multiple_choice":
        fn, kwargs = _multiple_choice, {"tok": tokenizer, "max_length": max_length, "task": task}
    elif fmt == "qa":
        fn, kwargs = _qa, {"tok": tokenizer, "max_length": max_length, "doc_stride": doc_stride,
                           "training": for_training}
    elif fmt == "tagging":
        fn, kwargs = _tagging, {"tok": tokenizer, "max_length": max_length}
    elif fmt == "mlm":
        fn, kwargs = _mlm, {"tok": tokenizer, "max_length": max_length}
    else:
        raise ValueError(f"task '{task.name}': format '{fmt}' cannot be featurized for a head")
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError("featurize needs a fast (tokenizers-backed) tokenizer")
    if len(ds) == 0:
        raise DataError(f"task '{task.name}': empty dataset, nothing to featurize")
    # An explicit fingerprint: datasets would otherwise hash the function and the tokenizer with
    # dill on every call, which costs more than the tokenization itself on small data.
    key = [getattr(ds, "_fingerprint", None), fn.__name__, task.name, task.labels, max_length,
           doc_stride, for_training, getattr(tokenizer, "name_or_path", ""), len(tokenizer)]
    fingerprint = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
    return ds.map(fn, fn_kwargs=kwargs, batched=True, batch_size=MAP_BATCH,
                  remove_columns=ds.column_names, desc=f"featurize {task.name}",
                  new_fingerprint=fingerprint)
