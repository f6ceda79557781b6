"""GPU-hour estimate of a config before launching it.

Training costs ~6 x N FLOPs per processed token and inference ~2 x N, with N the model's
non-embedding parameters (Kaplan et al. 2020). Tokens come from each task's real training-set size
and mean length (truncated at the phase's max_length), times epochs and, for multiple choice, the
number of choices. Assumed throughput: an A100 in bf16 at 10% of its 312 TFLOP/s peak
(~31 TFLOP/s: fine-tuning at batch 8-32 of short sequences keeps a large GPU far from its peak;
set --mfu for your hardware); dynamic padding means processed tokens ~ real tokens. Real runs
add evaluation during training, data loading and checkpointing: treat the result as a lower
bound within ~2x.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from xstilts import config as cfg
from xstilts import grid

PEAK_FLOPS = 312e12
MFU = 0.10

# Non-embedding parameters of known base models.
MODEL_PARAMS = {
    "xlm-roberta-large": 24 * 12 * 1024**2,
    "xlm-roberta-base": 12 * 12 * 768**2,
    "bert-base-multilingual-cased": 12 * 12 * 768**2,
}

# task: (training examples, mean tokens per example, test examples over all languages)
REAL_SIZES: dict[str, tuple[int, int, int]] = {
    "anli_plus": (1_105_000, 45, 0), "mnli": (392_702, 40, 0), "qqp": (363_846, 30, 0),
    "squad_v2": (130_319, 180, 0), "squad_v1": (87_599, 180, 0), "hellaswag": (39_905, 100, 0),
    "ccg": (39_604, 35, 0), "cosmosqa": (25_262, 120, 0), "commonsenseqa": (9_741, 30, 0),
    "xnli": (392_702, 40, 15 * 5_010), "pawsx": (49_401, 55, 7 * 2_000),
    "udpos": (12_543, 25, 33 * 1_500), "panx": (20_000, 20, 40 * 4_000),
    "xquad": (87_599, 180, 11 * 1_190), "mlqa": (87_599, 180, 7 * 5_000),
    "tydiqa": (3_696, 200, 9 * 600), "bucc2018": (0, 40, 4 * 2 * 400_000),
    "tatoeba": (0, 15, 36 * 2 * 1_000),
    # multilingual intermediate tasks: per training language (SIB-200: 701 per language;
    # MasakhaNER 2.0: ~4,500 on average, approximate)
    "sib200": (701, 40, 0), "masakhaner": (4_500, 30, 0),
}


def model_params(entry: dict) -> int:
    size = entry.get("size")
    if size:
        hidden, layers = size["hidden"], size["layers"]
        return layers * (4 * hidden**2 + 2 * hidden * size.get("intermediate", 4 * hidden))
    name = Path(entry.get("path", "")).name or entry.get("path", "")
    if name not in MODEL_PARAMS:
        raise cfg.ConfigError(f"models: no parameter count known for {entry.get('path')!r}; "
                              f"known: {sorted(MODEL_PARAMS)}")
    return MODEL_PARAMS[name]


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


def _tokens(task: str, hp: dict, registry: dict) -> float:
    examples, length, _ = REAL_SIZES.get(task, (0, 0, 0))
    spec = registry[task]
    per_example = min(length, hp.get("max_length", 512)) * (spec.num_choices or 1)
    epochs = hp.get("epochs", 1)
    return examples * per_example * epochs


def estimate(config: dict, mfu: float = MFU) -> dict[str, float]:
    """GPU-hours per stage for the whole grid."""
    throughput = PEAK_FLOPS * mfu
    registry = cfg.tasks(config)
    hours = {"intermediate": 0.0, "finetune": 0.0, "evaluate": 0.0, "retrieve": 0.0}
    recipes = cfg.recipes(config)
    finetuned = set(cfg.finetuned_targets(config))  # XQuAD and MLQA share a checkpoint
    for model, recipe_name, _seed in grid.grid(config):
        n = model_params(config["models"][model])
        recipe = recipes[recipe_name]
        for task in recipe["tasks"]:
            tokens = _tokens(task, cfg.hparams(config, "intermediate", task), registry)
            factor = (2 if recipe["mlm"] else 1) * (1 + 10 * recipe["translated"]) \
                * adversarial_cost_multiplier(recipe) * language_factor(recipe, task, registry)
            hours["intermediate"] += 6 * n * tokens * factor / throughput / 3600
        for target in config["targets"]:
            hp = cfg.hparams(config, "target", target)
            _, length, test = REAL_SIZES.get(target, (0, 0, 0))
            if registry[target].format == "retrieval":
                hours["retrieve"] += 2 * n * test * length / throughput / 3600
                continue
            if target in finetuned:
                hours["finetune"] += 6 * n * _tokens(target, hp, registry) / throughput / 3600
            hours["evaluate"] += 2 * n * test * min(length, hp.get("max_length", 512)) \
                / throughput / 3600
    hours["total"] = sum(hours.values())
    return hours


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="xstilts cost", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=Path("config.yaml"))
    parser.add_argument("--mfu", type=float, default=MFU, help="fraction of peak FLOP/s reached")
    args = parser.parse_args(argv)
    try:
        config = cfg.load_file(args.config)
        cfg.check(config)
        hours = estimate(config, args.mfu)
    except cfg.ConfigError as err:
        print(f"xstilts cost: error: {args.config}: {err}", file=sys.stderr)
        return 1
    print(f"GPU-hours for {args.config} (A100 bf16 at {args.mfu:.0%} of peak, "
          f"~{PEAK_FLOPS * args.mfu / 1e12:.0f} TFLOP/s; a lower bound within ~2x):")
    print("| stage | GPU-hours |\n| --- | --- |")
    for stage, value in hours.items():
        print(f"| {stage} | {value:,.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
