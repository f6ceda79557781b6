"""GPU-hour and checkpoint-I/O estimate of a config before launching it (`xstilts cost`).

Compute: training costs ~6 x N FLOPs per processed token and inference ~2 x N, with N the
model's non-embedding parameters (Kaplan et al. 2020). Tokens come from each task's real size in
the task registry (`size:` in tasks.yaml: training examples per language, English dev, test over
all languages, mean sub-words per example), truncated at the phase's max_length, times epochs,
choices (multiple choice) and the recipe's factors (+MLM x2, translated x11, adversarial x K,
languages). Fine-tuning adds its dev evaluations (every `eval_every` steps). Retrieval runs on
the GPU up to the retrieval layer only (N x layer / L). Assumed throughput: an A100 in bf16 at
`--mfu` of its 312 TFLOP/s peak.

Checkpoint I/O: a resumable checkpoint (weights + AdamW moments, 12 bytes per parameter, all
parameters) every `save_every_minutes` of the job's compute time (else every `save_every`
steps), the newest only; best dev weights (4 bytes per parameter) at each dev evaluation that
improves (counted as every evaluation: an upper bound); each job's output (weights only). Saves
block training: they cost GPU time at `--write-gbs` GB/s.

Not counted: data loading, tokenization, the research studies (robustness, alignment). Treat
the result as a lower bound within ~2x.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

from xstilts.grid import config as cfg
from xstilts.grid import paths as grid
from xstilts.grid.layers import retrieval_layer_for

PEAK_FLOPS = 312e12
MFU = 0.10
WRITE_GBS = 1.0  # GB/s one job writes to the cluster's filesystem
RESUMABLE_BYTES, WEIGHT_BYTES = 12, 4  # per parameter: fp32 weights + AdamW moments; weights

# Known base models: non-embedding parameters, all parameters, layers.
MODEL_PARAMS = {
    "xlm-roberta-large": 24 * 12 * 1024**2,
    "xlm-roberta-base": 12 * 12 * 768**2,
    "bert-base-multilingual-cased": 12 * 12 * 768**2,
}
MODEL_TOTAL_PARAMS = {
    "xlm-roberta-large": 559_890_432,
    "xlm-roberta-base": 278_043_648,
    "bert-base-multilingual-cased": 177_853_440,
}
MODEL_LAYERS = {"xlm-roberta-large": 24, "xlm-roberta-base": 12,
                "bert-base-multilingual-cased": 12}
STAGES = ("intermediate", "finetune", "evaluate", "retrieve")


@dataclass
class Stage:
    """One stage's totals over the grid."""

    jobs: int = 0
    tokens: float = 0.0
    flops: float = 0.0
    saves: int = 0
    bytes: float = 0.0
    notes: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Model:
    name: str
    params: int  # non-embedding (compute)
    total: int  # all (checkpoint bytes)
    layers: int


def _model_name(entry: dict) -> str:
    return Path(entry.get("path", "")).name or entry.get("path", "")


def model_params(entry: dict) -> int:
    """Non-embedding parameters of a model entry (its `size`, or a known hub model)."""
    return describe_model(entry).params


def describe_model(entry: dict) -> Model:
    size = entry.get("size")
    if size:
        hidden, layers = size["hidden"], size["layers"]
        params = layers * (4 * hidden**2 + 2 * hidden * size.get("intermediate", 4 * hidden))
        embeddings = (entry.get("vocab_size", 8000) + size.get("max_position", 512)) * hidden
        return Model("custom", params, params + embeddings, layers)
    name = _model_name(entry)
    if name not in MODEL_PARAMS:
        raise cfg.ConfigError(f"models: no parameter count known for {entry.get('path')!r}; "
                              f"known: {sorted(MODEL_PARAMS)}")
    return Model(name, MODEL_PARAMS[name], MODEL_TOTAL_PARAMS[name], MODEL_LAYERS[name])


def adversarial_cost_multiplier(recipe: dict) -> float:
    """Training-cost factor of a recipe's `adversarial` entry: FreeLB with K ascent steps runs
    K forward/backward passes per batch (K = 0 is clean training: 1), FGM two; 1 without it."""
    raw = recipe.get("adversarial")
    if not raw:
        return 1.0
    method = raw.get("method")
    if method == "fgm":
        return 2.0
    if method == "freelb":
        return float(max(1, int(raw.get("steps", 2))))
    raise cfg.ConfigError(f"adversarial.method: expected freelb or fgm, got {method!r}")


def language_factor(recipe: dict, task: str, registry: dict) -> int:
    """Number of languages whose training data `task` contributes under `recipe` (the
    stage resamples languages but keeps their total)."""
    entry = (recipe.get("languages") or {}).get(task)
    own = registry[task].training_languages
    if entry is None:
        return 1 if "en" in own else len(own)
    return len(own) if entry == "all" else len(entry)


def _size(registry: dict, task: str) -> dict[str, int]:
    return registry[task].size


def _train_source(registry: dict, task: str) -> str:
    """The task whose training data `task` trains on (XQuAD/MLQA: SQuAD v1.1; XCOPA: COPA)."""
    return registry[task].train_task or task


def _per_example(registry: dict, task: str, hp: dict, source: str | None = None) -> float:
    """Tokens one example costs: mean sub-words capped at max_length, times choices."""
    length = _size(registry, source or task).get("tokens", 0)
    return min(length, hp.get("max_length", 512)) * (registry[task].num_choices or 1)


def _train_examples(registry: dict, task: str, hp: dict) -> tuple[float, float]:
    """(examples, tokens) of one training run of `task`: `max_steps` batches when set (an
    upper bound under early stopping), else `epochs` passes over the training set."""
    source = _train_source(registry, task)
    if hp.get("max_steps"):
        examples = hp["max_steps"] * hp.get("batch_size", 32) * hp.get("grad_accum", 1)
    else:
        examples = _size(registry, source).get("train", 0) * hp.get("epochs", 1)
    return examples, examples * _per_example(registry, task, hp, source)


def _checkpoints(stage: Stage, seconds: float, steps: float, hp: dict, model: Model,
                 evals: float = 0.0) -> None:
    """Count one job's saves: resumable by time (or steps), best weights per dev evaluation
    (upper bound), the output's weights."""
    minutes = hp.get("save_every_minutes")
    if minutes:
        resumable = math.floor(seconds / 60.0 / float(minutes))
        stage.notes.add(f"resumable every {minutes:g} min")
    else:
        resumable = math.floor(steps / int(hp.get("save_every", 500)))
        stage.notes.add(f"resumable every {int(hp.get('save_every', 500))} steps")
    stage.saves += resumable + math.ceil(evals) + 1
    stage.bytes += resumable * RESUMABLE_BYTES * model.total \
        + (math.ceil(evals) + 1) * WEIGHT_BYTES * model.total


def stage_totals(config: dict, mfu: float = MFU) -> dict[str, Stage]:
    """Per-stage jobs, tokens, FLOPs, saves and bytes written for the whole grid."""
    throughput = PEAK_FLOPS * mfu
    registry = cfg.tasks(config)
    stages = {name: Stage() for name in STAGES}
    recipes = cfg.recipes(config)
    finetuned = set(cfg.finetuned_targets(config))  # XQuAD and MLQA share a checkpoint
    for model_name, recipe_name, _seed in grid.grid(config):
        entry = config["models"][model_name]
        model = describe_model(entry)
        recipe = recipes[recipe_name]
        if recipe["tasks"]:
            st = stages["intermediate"]
            tokens = flops = examples = 0.0
            hp: dict = {}
            for task in recipe["tasks"]:
                hp = cfg.hparams(config, "intermediate", task)
                factor = (2 if recipe["mlm"] else 1) * (1 + 10 * recipe["translated"]) \
                    * language_factor(recipe, task, registry)
                n_ex, n_tok = _train_examples(registry, task, hp)
                examples += n_ex * factor
                tokens += n_tok * factor
                flops += 6 * model.params * n_tok * factor * adversarial_cost_multiplier(recipe)
            st.jobs += 1
            st.tokens += tokens
            st.flops += flops
            batch = hp.get("batch_size", 32) * hp.get("grad_accum", 1)
            _checkpoints(st, flops / throughput, examples / batch, hp, model)
        for target in config["targets"]:
            hp = cfg.hparams(config, "target", target)
            size = _size(registry, target)
            if registry[target].format == "retrieval":
                layer = retrieval_layer_for(entry, model.layers,
                                            (config.get("retrieval") or {}).get("layer"))
                st = stages["retrieve"]
                tokens = size.get("test", 0) * min(
                    size.get("tokens", 0), (config.get("retrieval") or {}).get("max_length", 512))
                st.jobs += 1
                st.tokens += tokens
                st.flops += 2 * model.params * layer / model.layers * tokens
                st.notes.add("on the GPU, layers 1..retrieval layer only")
                continue
            if target in finetuned:
                st = stages["finetune"]
                examples, tokens = _train_examples(registry, target, hp)
                per_example = _per_example(registry, target, hp, _train_source(registry, target))
                steps = examples / (hp.get("batch_size", 32) * hp.get("grad_accum", 1))
                every = hp.get("eval_every") or 0
                evals = steps / every if every else 0.0
                dev_tokens = size.get("dev", 0) * per_example * evals
                flops = 6 * model.params * tokens + 2 * model.params * dev_tokens
                st.jobs += 1
                st.tokens += tokens + dev_tokens
                st.flops += flops
                _checkpoints(st, flops / throughput, steps, hp, model, evals)
                if every:
                    st.notes.add(f"dev eval every {every} steps, best weights each time")
            st = stages["evaluate"]
            tokens = size.get("test", 0) * _per_example(registry, target, hp)
            st.jobs += 1
            st.tokens += tokens
            st.flops += 2 * model.params * tokens
    return stages


def estimate(config: dict, mfu: float = MFU, write_gbs: float = WRITE_GBS) -> dict[str, float]:
    """Compute GPU-hours per stage, the GPU-hours of blocking checkpoint writes
    ("checkpoint_io", all stages) and the total."""
    throughput = PEAK_FLOPS * mfu
    stages = stage_totals(config, mfu)
    hours = {name: st.flops / throughput / 3600 for name, st in stages.items()}
    hours["checkpoint_io"] = sum(st.bytes for st in stages.values()) / (write_gbs * 1e9) / 3600
    hours["total"] = sum(hours.values())
    return hours


def table(config: dict, mfu: float = MFU, write_gbs: float = WRITE_GBS) -> str:
    """The per-stage table (markdown) with the assumptions under it."""
    throughput = PEAK_FLOPS * mfu
    stages = stage_totals(config, mfu)
    rows = ["| stage | jobs | tokens (B) | compute GPU-h | saves | written (TB) | "
            "I/O GPU-h | GPU-h |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    total = Stage()
    total_h = [0.0, 0.0]
    for name, st in stages.items():
        compute = st.flops / throughput / 3600
        io = st.bytes / (write_gbs * 1e9) / 3600
        rows.append(f"| {name} | {st.jobs} | {st.tokens / 1e9:,.2f} | {compute:,.1f} | "
                    f"{st.saves:,} | {st.bytes / 1e12:,.2f} | {io:,.1f} | {compute + io:,.1f} |")
        total.jobs += st.jobs
        total.tokens += st.tokens
        total.saves += st.saves
        total.bytes += st.bytes
        total_h[0] += compute
        total_h[1] += io
    rows.append(f"| **total** | {total.jobs} | {total.tokens / 1e9:,.2f} | {total_h[0]:,.1f} | "
                f"{total.saves:,} | {total.bytes / 1e12:,.2f} | {total_h[1]:,.1f} | "
                f"**{sum(total_h):,.1f}** |")
    models = {describe_model(config["models"][m]) for m in config["models"]}
    notes = [f"- throughput: A100 bf16, {mfu:.0%} of {PEAK_FLOPS / 1e12:.0f} TFLOP/s = "
             f"{throughput / 1e12:.0f} TFLOP/s; training 6N, inference 2N FLOPs per token "
             "(N: non-embedding parameters)",
             *(f"- {m.name}: N = {m.params / 1e6:,.0f}M, {m.total / 1e6:,.0f}M parameters in "
               f"all, {m.layers} layers; a resumable save {RESUMABLE_BYTES * m.total / 1e9:.1f} "
               f"GB, a weights save {WEIGHT_BYTES * m.total / 1e9:.1f} GB"
               for m in sorted(models, key=lambda m: m.name)),
             f"- checkpoint writes block training at {write_gbs:g} GB/s per job",
             *(f"- {name}: {'; '.join(sorted(st.notes))}" for name, st in stages.items()
               if st.notes),
             "- task sizes: `size:` in the task registry (tasks.yaml, config `tasks:`)",
             "- not counted: data loading, tokenization, research studies (robustness, "
             "alignment); a lower bound within ~2x"]
    return "\n".join(rows + ["", "Assumptions:", *notes])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="xstilts cost", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=Path("config.yaml"))
    parser.add_argument("--mfu", type=float, default=MFU, help="fraction of peak FLOP/s reached")
    parser.add_argument("--write-gbs", type=float, default=WRITE_GBS,
                        help="GB/s a job writes checkpoints at")
    args = parser.parse_args(argv)
    try:
        config = cfg.load_file(args.config)
        cfg.check(config)
        text = table(config, args.mfu, args.write_gbs)
    except cfg.ConfigError as err:
        print(f"xstilts cost: error: {args.config}: {err}", file=sys.stderr)
        return 1
    print(f"GPU-hours for {args.config}:")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
