"""Predictions per language from a fine-tuned model (one model load, many languages).

Return value of `Predictor.predict(ds)` / `predict(...)`, one entry per row of `ds`:

- classification: label string
- multiple_choice: choice index (int)
- qa: answer text ("" for a null answer)
- tagging: list of tag strings, one per canonical token; the tag is read from the token's first
  sub-word; tokens beyond the model's length get "O" (or the first label) deterministically.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from xstilts.tasks.registry import TaskSpec

ENGINE_CONFIG = "engine_config.json"
DEFAULTS = {"max_length": 128, "doc_stride": 128, "eval_batch_size": 64, "n_best": 20,
            "max_answer_length": 30}


def read_engine_config(model_dir: str | Path) -> dict[str, Any]:
    path = Path(model_dir) / ENGINE_CONFIG
    return json.loads(path.read_text("utf-8")) if path.is_file() else {}


def model_max_length(model: Any, tokenizer: Any) -> int:
    """Usable sequence length of `model` (XLM-R offsets positions by pad_token_id + 1)."""
    cfg = model.config
    limit = int(getattr(cfg, "max_position_embeddings", 512))
    if cfg.model_type in ("xlm-roberta", "roberta", "camembert", "xlm-roberta-xl"):
        limit -= int(cfg.pad_token_id) + 1
    tok_limit = getattr(tokenizer, "model_max_length", limit) or limit
    return int(min(limit, tok_limit if tok_limit < 10**6 else limit))


def model_rows(features: Any) -> list[dict[str, Any]]:
    """The model's input columns of every feature as plain rows, read column-wise in one go
    (a Dataset's row-by-row access decodes every column of every row, e.g. QA offsets)."""
    from xstilts.engine.collate import MODEL_KEYS

    if hasattr(features, "select_columns"):
        keep = [c for c in features.column_names if c in MODEL_KEYS]
        return features.select_columns(keep).to_list()
    return [features[i] for i in range(len(features))]


def columns(ds: Any, names: Sequence[str]) -> list[dict[str, Any]]:
    """Rows of `ds` with only the columns `names` (a Dataset is read column-wise)."""
    if hasattr(ds, "select_columns"):
        return ds.select_columns(list(names)).to_list()
    return [{k: row[k] for k in names} for row in ds]


def run_model(model: Any, features: Any, collate: Callable[[list[dict]], dict], batch_size: int,
              outputs: Sequence[str] = ("logits",), per_token: bool = False,
              precision: str | None = None) -> dict[str, list[np.ndarray]]:
    """Forward `features` in length-sorted batches (dynamic padding); outputs per feature.

    With `per_token`, outputs are sequence outputs and are cut to each feature's own length.
    Runs on the model's device under `precision` (`engine.device.resolve_precision`: default
    bf16 autocast on a GPU, fp32 on the CPU); outputs are returned in fp32.
    """
    import torch

    from xstilts.engine.device import autocast, resolve_precision

    rows = model_rows(features)
    lengths = [len(r["input_ids"]) if not isinstance(r["input_ids"][0], list)
               else max(len(x) for x in r["input_ids"]) for r in rows]
    order = sorted(range(len(rows)), key=lambda i: -lengths[i])
    result: dict[str, list[Any]] = {name: [None] * len(rows) for name in outputs}
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    precision = resolve_precision(device, precision)
    try:
        with torch.inference_mode(), autocast(device, precision):
            for start in range(0, len(order), batch_size):
                idx = order[start:start + batch_size]
                batch = collate([rows[i] for i in idx])
                batch = {k: v.to(device) if hasattr(v, "to") else v for k, v in batch.items()}
                out = model(**batch)
                for name in outputs:
                    values = out[name].float().cpu().numpy()
                    for j, i in enumerate(idx):
                        result[name][i] = values[j][:lengths[i]] if per_token else values[j]
    finally:
        model.train(was_training)
    return result


def _tagging_predictions(task: TaskSpec, ds: Any, feats: Any, logits: list[np.ndarray],
                         id2label: dict[int, str]) -> list[list[str]]:
    labels = [id2label[i] for i in range(len(id2label))]
    fallback = "O" if "O" in labels else labels[0]
    preds = []
    for row, feat, lg in zip(ds, feats, logits, strict=True):
        tags = [fallback] * len(row["tokens"])
        prev = -1
        for pos, w in enumerate(feat["word_ids"]):
            if w >= 0 and w != prev:
                tags[w] = labels[int(np.argmax(lg[pos]))]
            prev = w
        preds.append(tags)
    return preds


def quiet_progress_bars() -> None:
    """No per-item progress bars (model loading, featurizing) when stderr is not a terminal."""
    import sys

    if not sys.stderr.isatty():
        import datasets
        import transformers

        datasets.disable_progress_bars()
        transformers.utils.logging.disable_progress_bar()


def limit_threads(threads: int) -> None:
    import os

    import torch

    threads = max(1, int(threads))
    torch.set_num_threads(threads)
    os.environ.setdefault("RAYON_NUM_THREADS", str(threads))  # fast-tokenizer batch threads


def eval_features(task: TaskSpec, model: Any, tokenizer: Any, ds: Any,
                  hparams: dict[str, Any] | None = None) -> Any:
    """Featurize `ds` for prediction (tagging uses the model's full length: no truncation)."""
    from xstilts.engine.featurize import featurize

    hp = {**DEFAULTS, **(hparams or {})}
    max_length = int(hp["max_length"])
    if task.format == "tagging":
        max_length = max(max_length, model_max_length(model, tokenizer))
    return featurize(task, ds, tokenizer, max_length, int(hp["doc_stride"]), for_training=False)


def predict_with_model(task: TaskSpec, model: Any, tokenizer: Any, ds: Any,
                       hparams: dict[str, Any] | None = None, features: Any = None) -> list:
    """Predictions for canonical `ds` with an in-memory head model (see module docstring).

    `features`: `eval_features(...)` of `ds`, if already computed (dev sets during training).
    """
    from xstilts.engine.collate import make_collator
    from xstilts.engine.qa import postprocess_qa

    hp = {**DEFAULTS, **(hparams or {})}
    if len(ds) == 0:
        return []
    feats = features if features is not None else eval_features(task, model, tokenizer, ds, hp)
    collate = make_collator(task.format, tokenizer, for_training=False)
    bs = int(hp["eval_batch_size"])
    if task.format == "qa":
        out = run_model(model, feats, collate, bs, ("start_logits", "end_logits"),
                        per_token=True)
        answers = postprocess_qa(columns(ds, ("id", "context")),
                                 columns(feats, ("example_id", "offset_mapping")),
                                 out["start_logits"], out["end_logits"],
                                 n_best=int(hp["n_best"]),
                                 max_answer_length=int(hp["max_answer_length"]),
                                 null_answers=bool(task.unanswerable))
        return [answers[row["id"]] for row in columns(ds, ("id",))]
    logits = run_model(model, feats, collate, bs, per_token=task.format == "tagging")["logits"]
    if task.format == "classification":
        id2label = {int(k): v for k, v in model.config.id2label.items()}
        return [id2label[int(np.argmax(lg))] for lg in logits]
    if task.format == "multiple_choice":
        return [int(np.argmax(lg)) for lg in logits]
    if task.format == "tagging":
        id2label = {int(k): v for k, v in model.config.id2label.items()}
        return _tagging_predictions(task, columns(ds, ("tokens",)), columns(feats, ("word_ids",)),
                                    logits, id2label)
    raise ValueError(f"task '{task.name}': no predictions for format '{task.format}'")


class Predictor:
    """Load a fine-tuned model once, predict many datasets (languages)."""

    def __init__(self, task: TaskSpec, model_dir: str | Path, threads: int = 1,
                 hparams: dict[str, Any] | None = None):
        import torch
        from transformers import AutoTokenizer

        from xstilts.engine.modeling import load_for_inference

        limit_threads(threads)
        quiet_progress_bars()
        self.task = task
        self.model_dir = Path(model_dir)
        saved = read_engine_config(model_dir)
        self.hparams = {**DEFAULTS, **{k: v for k, v in saved.items() if k in DEFAULTS},
                        **(hparams or {})}
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        self.model = load_for_inference(task, model_dir)
        if torch.cuda.is_available():
            from xstilts.engine.device import enable_tf32

            enable_tf32()
            self.model.to("cuda")
        self.model.eval()

    def predict(self, ds: Any) -> list:
        return predict_with_model(self.task, self.model, self.tokenizer, ds, self.hparams)


def predict(task: TaskSpec, model_dir: str | Path, ds: Any, tokenizer: Any = None,
            hparams: dict[str, Any] | None = None) -> list:
    """One-shot prediction (prefer `Predictor` for many languages)."""
    predictor = Predictor(task, model_dir, threads=int((hparams or {}).get("threads", 1)),
                          hparams=hparams)
    if tokenizer is not None:
        predictor.tokenizer = tokenizer
    return predictor.predict(ds)


def dev_score(task: TaskSpec, ds: Any, predictions: list) -> float:
    """Dev-set score for model selection (higher is better, in [0, 1])."""
    if len(ds) == 0:
        return 0.0
    if task.format == "classification":
        names = ds.features["label"].names
        return float(np.mean([p == names[g] for p, g in zip(predictions, ds["label"],
                                                             strict=True)]))
    if task.format == "multiple_choice":
        return float(np.mean([p == g for p, g in zip(predictions, ds["label"], strict=True)]))
    if task.format == "tagging":
        names = ds.features["tags"].feature.names
        gold = [[names[t] for t in tags] for tags in ds["tags"]]
        if task.metric == "seqeval_f1":
            from seqeval.metrics import f1_score

            return float(f1_score(gold, predictions))
        flat = [p == g for ps, gs in zip(predictions, gold, strict=True)
                for p, g in zip(ps, gs, strict=True)]
        return float(np.mean(flat)) if flat else 0.0
    if task.format == "qa":
        return float(np.mean([_squad_f1(p, a["text"]) for p, a in zip(predictions, ds["answers"],
                                                                       strict=True)]))
    raise ValueError(f"task '{task.name}': no dev score for format '{task.format}'")


def _squad_f1(prediction: str, golds: list[str]) -> float:
    """Best token F1 over the gold answers (`metrics.qa.f1_tokens`) with SQuAD 2.0's rules for
    empty answers: no gold answer = correct iff the prediction is empty; an answer that
    normalizes to nothing matches only another such answer."""
    from xstilts.metrics.qa import f1_tokens, normalize_squad

    if not golds:
        return float(prediction == "")
    if not normalize_squad(prediction).split():
        return float(any(not normalize_squad(gold).split() for gold in golds))
    return max(f1_tokens(prediction, gold, normalize_squad) for gold in golds)
