"""Where every stage writes, as functions of the grid's wildcards (model, recipe, target, seed).

Pure path logic shared by the Snakefile and the tests; nothing here runs anything.
"""

from __future__ import annotations

from xstilts.grid import config as cfg

RESULTS = "results"
SYNTHETIC_DIR = f"{RESULTS}/data/mini-xtreme"
SCRATCH = f"{RESULTS}/.scratch"
TABLES = f"{RESULTS}/tables"
FIGURES = f"{RESULTS}/figures"


def base_model_dir(model: str) -> str:
    return f"{RESULTS}/models/{model}/base"


def exported_model_dir(model: str) -> str:
    """Where `export: true` ships a pretrained base model (committed to the repository)."""
    return f"assets/models/{model}"


def intermediate_dir(model: str, recipe: str, seed: int | str) -> str:
    return f"{RESULTS}/intermediate/{model}/{recipe}/seed{seed}/encoder"


def intermediate_dev_file(model: str, recipe: str, seed: int | str) -> str:
    """The intermediate stage's dev scores (per task, with chance levels)."""
    return f"{RESULTS}/intermediate/{model}/{recipe}/seed{seed}/dev_scores.json"


def intermediate_dev_files(config: dict) -> list[str]:
    """Every intermediate training job's dev score file (recipes other than `none`)."""
    return [intermediate_dev_file(model, recipe, seed) for model, recipe, seed in grid(config)
            if recipe != cfg.NONE_RECIPE]


def finetune_dir(model: str, recipe: str, target: str, seed: int | str) -> str:
    return f"{RESULTS}/finetune/{model}/{recipe}/{target}/seed{seed}/model"


def scores_file(model: str, recipe: str, target: str, seed: int | str) -> str:
    return f"{RESULTS}/scores/{model}/{recipe}/{target}/seed{seed}/scores.json"


def predictions_dir(model: str, recipe: str, target: str, seed: int | str) -> str:
    """XTREME submission layout: the parent folder holds `<target>/test-<lang>.<ext>`."""
    return f"{RESULTS}/predictions/{model}/{recipe}/seed{seed}/{target}"


def labels_dir(target: str) -> str:
    return f"{RESULTS}/labels/{target}"


def perturbed_dir(target: str) -> str:
    """The perturbation suite's test sets of a target (`manifest.json` lists them)."""
    return f"{RESULTS}/perturbed/{target}"


def robustness_file(model: str, recipe: str, target: str, seed: int | str) -> str:
    return f"{RESULTS}/robustness/{model}/{recipe}/{target}/seed{seed}/robustness.json"


def alignment_file(model: str, recipe: str, seed: int | str) -> str:
    return f"{RESULTS}/alignment/{model}/{recipe}/seed{seed}/alignment.json"


def scratch_dir(*parts: str | int) -> str:
    return "/".join([SCRATCH, *map(str, parts)])


def encoder_for(config: dict, model: str, recipe: str, seed: int | str) -> str:
    """The encoder that a recipe hands to target fine-tuning and retrieval."""
    if recipe == cfg.NONE_RECIPE:
        return base_model_path(config, model)
    return intermediate_dir(model, recipe, seed)


def base_model_path(config: dict, model: str) -> str:
    entry = config["models"][model]
    return entry["path"] if entry["init"] == "path" else base_model_dir(model)


def grid(config: dict) -> list[tuple[str, str, int]]:
    """(model, recipe, seed) triples of the grid."""
    return [
        (model, recipe, seed)
        for model in config["models"]
        for recipe in cfg.model_recipes(config, model)
        for seed in config["seeds"]
    ]


def score_files(config: dict) -> list[str]:
    """Every per-target score file the grid produces."""
    return [
        scores_file(model, recipe, target, seed)
        for model, recipe, seed in grid(config)
        for target in config["targets"]
    ]


def robustness_files(config: dict) -> list[str]:
    """Every checkpoint x target that the robustness study evaluates under perturbation."""
    return [
        robustness_file(model, recipe, target, seed)
        for model, recipe, seed in grid(config)
        if recipe in cfg.study_recipes(config, "robustness", model)
        for target in cfg.robustness_targets(config)
    ]


def alignment_files(config: dict) -> list[str]:
    """Every checkpoint (base model = recipe `none`) whose alignment is measured."""
    return [
        alignment_file(model, recipe, seed)
        for model, recipe, seed in grid(config)
        if recipe in cfg.study_recipes(config, "alignment", model)
    ]
