# Config validation, wildcard constraints and the small helpers the rules share.
import os
import sys

from snakemake.utils import update_config, validate

sys.path.insert(0, os.path.join(workflow.basedir, "src"))  # the library of this checkout

from xstilts.grid import config as xcfg  # noqa: E402
from xstilts.grid import paths as xgrid  # noqa: E402
from xstilts.engine import tracking as xtracking  # noqa: E402
from xstilts import worker as xworker  # noqa: E402
from xstilts.stages import specs as xspecs  # noqa: E402

# `--config` overrides: nested numbers are strings from Snakemake's parser (seeds=[1,2])
if workflow.config_settings.config:
    update_config(config, xcfg.typed_overrides(workflow.config_settings.config))
try:  # the files strictly (duplicate keys, size), then the merged config's size and numbers
    for _file in workflow.configfiles:
        xcfg.load_file(_file)
    xcfg.check_renamed(config)
    xcfg.check_size(config)
except xcfg.ConfigError as err:
    sys.exit(f"xstilts: invalid config: {err}")
validate(config, "../schemas/config.schema.yaml")
try:
    xcfg.check(config)
except xcfg.ConfigError as err:
    sys.exit(f"xstilts: invalid config: {err}")

# Pre-flight data check (also `xstilts check-data --config FILE`): every file the planned jobs
# read exists, parses and has labels where they are scored; once, before planning (not again
# inside each job). XSTILTS_DATA_CHECK=0 skips it (e.g. planning where the data is not mounted).
if workflow.is_main_process and os.environ.get("XSTILTS_DATA_CHECK", "1") != "0":
    from xstilts.data import preflight as xpreflight  # noqa: E402

    try:
        xpreflight.check(config, cache=os.path.join(xgrid.RESULTS, ".data_check.json"))
    except xpreflight.DataError as err:
        sys.exit(f"xstilts: {err}")

# Rules run the library of this checkout (installed or not, conda env or not): its src/ leads
# the jobs' PYTHONPATH. Stage commands `exec`, so that SIGTERM (SLURM preemption, `--signal`
# before the time limit) reaches the stage first instead of ending the job's shell (training then
# saves the step).
SRC = os.path.join(workflow.basedir, "src")
os.environ.update(PYTHONPATH=os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")])))
CONDA_ENV = "../../envs/xstilts.yaml"

# A relative model path is looked up in the working directory, then in this checkout (where the
# shipped assets/models/tiny lives), so `--directory elsewhere` still finds the shipped model.
for _entry in config["models"].values():
    _path = _entry.get("path")
    if (
        _entry["init"] == "path"
        and _path
        and not os.path.isabs(_path)
        and not os.path.exists(_path)
        and os.path.isdir(os.path.join(workflow.basedir, _path))
    ):
        _entry["path"] = os.path.join(workflow.basedir, _path)

# Training jobs read the tracking settings from the environment, not their params: switching
# tracking on or off reruns nothing (xstilts.engine.tracking).
xtracking.export(config.get("tracking"))

REGISTRY = xcfg.tasks(config)
RECIPES = xcfg.recipes(config)
TRAINED_TARGETS = xcfg.trained_targets(config)
# XQuAD and MLQA share one SQuAD checkpoint: target -> the target whose checkpoint it uses
FINETUNE_OF = {t: xcfg.finetune_target(config, t) for t in TRAINED_TARGETS}
FINETUNED_TARGETS = [t for t in TRAINED_TARGETS if FINETUNE_OF[t] == t]
RETRIEVAL_TARGETS = xcfg.retrieval_targets(config)
BUILT_MODELS = [m for m, e in config["models"].items() if e["init"] in ("pretrain", "random")]
SYNTHETIC = config["benchmark"]["source"] == "synthetic"
# improvement tables and the heatmap need the baseline `none` and at least one other recipe
COMPARISON = any(
    xcfg.NONE_RECIPE in rs and len(rs) > 1
    for rs in (xcfg.model_recipes(config, m) for m in config["models"])
)


def _alternatives(names):
    return "|".join(sorted(names)) or "(?!)"


wildcard_constraints:
    model=_alternatives(config["models"]),
    recipe=_alternatives(RECIPES),
    target=_alternatives(config["targets"]),
    seed=r"\d+",


def benchmark_spec():
    bench = dict(config["benchmark"])
    bench.pop("synthetic", None)
    # keys at their defaults stay out of the specs: adding them does not rerun finished jobs
    for key, default in (("eval_split", "test"), ("gold_path", None)):
        if bench.get(key, default) == default:
            bench.pop(key, None)
    if SYNTHETIC:
        bench["path"] = xgrid.SYNTHETIC_DIR
    return bench


def task_overrides():
    return config.get("tasks") or {}


def data_input(wildcards=None):
    return [xgrid.SYNTHETIC_DIR] if SYNTHETIC else []


def base_input(model):
    """The base model folder when the workflow builds it or it is a local folder (e.g. the
    shipped assets/models/tiny); nothing for hub names."""
    if model in BUILT_MODELS:
        return [xgrid.base_model_dir(model)]
    path = config["models"][model].get("path")
    return [path] if path and os.path.isdir(path) else []


def encoder_input(wildcards):
    if wildcards.recipe == xcfg.NONE_RECIPE:
        return base_input(wildcards.model)
    return [xgrid.intermediate_dir(wildcards.model, wildcards.recipe, wildcards.seed)]


def model_slice(model):
    """A model's config entry minus the grid's choice of recipes."""
    return {k: v for k, v in config["models"][model].items() if k != "recipes"}


def intermediate_hparams(recipe):
    return xcfg.recipe_hparams(config, recipe)


def upstream(model, recipe):
    """The config slices that produced a checkpoint. Downstream specs carry them, so that a
    changed upstream setting reruns them even when the upstream job itself failed (its stale
    outputs deleted, theirs not)."""
    parts = {"model": model_slice(model)}
    if recipe != xcfg.NONE_RECIPE:
        parts.update(recipe=RECIPES[recipe], hparams=intermediate_hparams(recipe))
    return parts


def finetuned_upstream(w):
    """`upstream` of a fine-tuned checkpoint: its encoder's plus the fine-tuning hparams."""
    return {**upstream(w.model, w.recipe), "finetune": xcfg.hparams(config, "target", w.target)}


def finetuned_model(w):
    """The fine-tuned checkpoint a target is evaluated with (XQuAD's for MLQA)."""
    return xgrid.finetune_dir(w.model, w.recipe, FINETUNE_OF[w.target], w.seed)


def ids(w):
    """A job's grid coordinates, written into its results."""
    return dict(model=w.model, recipe=w.recipe, seed=int(w.seed))


def robustness_settings():
    """The perturbation suite's settings (without the studied recipes and targets)."""
    return {k: v for k, v in config["robustness"].items() if k not in ("recipes", "targets")}


def perturb_tokenizer_model():
    """The model whose tokenizer gives sub-word swaps: the configured one, else the first."""
    return config["robustness"].get("tokenizer") or next(iter(config["models"]))


# Shipping a pretrained base model: `export: true` on an `init: pretrain` model copies it, with
# provenance.json (config slice, seed, code version, sha256 of every file), to assets/models/.
# The embedded default's tiny model is regenerated this way (see README).
EXPORTED_MODELS = [m for m, e in config["models"].items() if e.get("export")]
REGENERATE_TINY = (
    "snakemake export_models --forcerun export_model --cores all --configfile config.yaml "
    "config/studies.yaml config/pretrain-tiny.yaml"
)


def table_file(name, ext):
    """A table written by aggregation; its CSV is in the report."""
    path = f"{xgrid.TABLES}/{name}.{ext}"
    if ext != "csv":
        return path
    return report(path, category="Tables", caption="../report/tables.rst")


def per_language_recipes():
    """The configured recipes that are in the grid (all recipes when none of them is)."""
    wanted = (config.get("figures") or {}).get("per_language_recipes") or []
    in_grid = {r for m in config["models"] for r in xcfg.model_recipes(config, m)}
    return [r for r in wanted if r in in_grid]


def language_table():
    """Families for grouping languages: mini-XTREME's table ("": URIEL's families)."""
    return f"{xgrid.SYNTHETIC_DIR}/languages.csv" if SYNTHETIC else ""


def training_curve_groups():
    """{group: {recipe: [train_log.json per seed]}} of the grid's training jobs."""
    groups = {}
    for model, recipe, seed in xgrid.grid(config):
        if recipe != xcfg.NONE_RECIPE:
            log = os.path.join(xgrid.intermediate_dir(model, recipe, seed), "train_log.json")
            groups.setdefault(f"intermediate_{model}", {}).setdefault(recipe, []).append(log)
        for target in FINETUNED_TARGETS:
            log = os.path.join(xgrid.finetune_dir(model, recipe, target, seed), "train_log.json")
            groups.setdefault(f"finetune_{model}_{target}", {}).setdefault(recipe, []).append(log)
    return groups


def pretrain_inputs(wildcards):
    entry = config["models"][wildcards.model]
    if entry["init"] == "random":
        return data_input() + base_input(entry["tokenizer_from"])
    return data_input()


# Stage specs: what a job reads, writes and was configured with, as canonical sorted-key JSON
# (the job's `params`, so that only a change of its own slice reruns it). Inputs, outputs and
# provenance only: threads and runtime are command-line options (`--threads`, `--runtime-min`),
# so that changing them reruns nothing. One builder per stage; `stage_spec` checks the result
# with the stage's class in xstilts.stages.specs (one name per concept, see there).


def _data_spec(w):
    return dict(out=xgrid.SYNTHETIC_DIR, synthetic=config["benchmark"]["synthetic"])


def _labels_spec(w):
    return dict(
        target=w.target,
        benchmark=benchmark_spec(),
        tasks=task_overrides(),
        out=xgrid.labels_dir(w.target),
    )


def _pretrain_spec(w):
    entry = config["models"][w.model]
    parts = dict(
        model=model_slice(w.model),
        benchmark=benchmark_spec(),
        tasks=task_overrides(),
        seed=0,
        out=xgrid.base_model_dir(w.model),
        scratch=xgrid.scratch_dir("pretrain", w.model),
    )
    if entry["init"] == "random":
        parts["tokenizer"] = xgrid.base_model_path(config, entry["tokenizer_from"])
    else:
        parts["hparams"] = xcfg.hparams(config, "pretrain")
    return parts


def _export_spec(w):
    return dict(
        name=w.model,
        model=config["models"][w.model],
        benchmark=config["benchmark"],
        hparams=xcfg.hparams(config, "pretrain"),
        seed=0,
        threads=threads_for("pretrain"),
        checkout=workflow.basedir,
        model_path=xgrid.base_model_dir(w.model),
        out=xgrid.exported_model_dir(w.model),
        command=REGENERATE_TINY,
    )


def _intermediate_spec(w):
    recipe = RECIPES[w.recipe]
    return dict(
        model=model_slice(w.model),
        recipe=recipe,
        benchmark=benchmark_spec(),
        tasks=task_overrides(),
        targets=config["targets"] if recipe["mlm"] or recipe["translated"] else [],
        model_path=xgrid.base_model_path(config, w.model),
        hparams=intermediate_hparams(w.recipe),
        seed=int(w.seed),
        out=xgrid.intermediate_dir(w.model, w.recipe, w.seed),
        dev_out=xgrid.intermediate_dev_file(w.model, w.recipe, w.seed),
        model_name=w.model,
        recipe_name=w.recipe,
        scratch=xgrid.scratch_dir("intermediate", w.model, w.recipe, w.seed),
    )


def _finetune_spec(w):
    return dict(
        target=w.target,
        benchmark=benchmark_spec(),
        tasks=task_overrides(),
        upstream=upstream(w.model, w.recipe),
        model_path=xgrid.encoder_for(config, w.model, w.recipe, w.seed),
        hparams=xcfg.hparams(config, "target", w.target),
        seed=int(w.seed),
        out=xgrid.finetune_dir(w.model, w.recipe, w.target, w.seed),
        scratch=xgrid.scratch_dir("finetune", w.model, w.recipe, w.target, w.seed),
        evaluate=[_evaluate_spec(w)],  # fused: the new checkpoint on its own target
    )


def _evaluate_spec(w):
    return dict(
        target=w.target,
        benchmark=benchmark_spec(),
        tasks=task_overrides(),
        upstream=finetuned_upstream(w),
        model_path=finetuned_model(w),
        ids=ids(w),
        out=xgrid.scores_file(w.model, w.recipe, w.target, w.seed),
        predictions=xgrid.predictions_dir(w.model, w.recipe, w.target, w.seed),
    )


def _retrieve_spec(w):
    return dict(
        benchmark=benchmark_spec(),
        tasks=task_overrides(),
        upstream=upstream(w.model, w.recipe),
        model_path=xgrid.encoder_for(config, w.model, w.recipe, w.seed),
        retrieval=dict(config["retrieval"]),
        model=model_slice(w.model),
        ids=ids(w),
        targets=[
            dict(
                target=t,
                out=xgrid.scores_file(w.model, w.recipe, t, w.seed),
                predictions=xgrid.predictions_dir(w.model, w.recipe, t, w.seed),
            )
            for t in RETRIEVAL_TARGETS
        ],
    )


def _perturb_spec(w):
    settings = robustness_settings()
    model = perturb_tokenizer_model()
    return dict(
        target=w.target,
        benchmark=benchmark_spec(),
        tasks=task_overrides(),
        operations=settings["operations"],
        severities=settings["severities"],
        seed=settings["seed"],
        max_examples=settings.get("max_examples"),
        tokenizer=xgrid.base_model_path(config, model),
        upstream={"model": model_slice(model)},
        out=xgrid.perturbed_dir(w.target),
    )


def _robustness_spec(w):
    return dict(
        target=w.target,
        benchmark=benchmark_spec(),
        tasks=task_overrides(),
        upstream={**finetuned_upstream(w), "perturb": robustness_settings()},
        model_path=finetuned_model(w),
        perturbed=f"{xgrid.perturbed_dir(w.target)}/manifest.json",
        clean_scores=xgrid.scores_file(w.model, w.recipe, w.target, w.seed),
        ids=ids(w),
        out=xgrid.robustness_file(w.model, w.recipe, w.target, w.seed),
    )


def _alignment_spec(w):
    settings = config["alignment"]
    return dict(
        benchmark=benchmark_spec(),
        tasks=task_overrides(),
        upstream=upstream(w.model, w.recipe),
        model_path=xgrid.encoder_for(config, w.model, w.recipe, w.seed),
        limit=settings["limit"],
        perturbations=settings["perturbations"],
        tokenizer=xgrid.base_model_path(config, w.model),
        seed=int(w.seed),
        ids=ids(w),
        out=xgrid.alignment_file(w.model, w.recipe, w.seed),
    )


def _robustness_report_spec(w):
    # the studied recipes' entries (adversarial recipes are paired with their clean counterparts)
    studied = {r for m in config["models"] for r in xcfg.study_recipes(config, "robustness", m)}
    return dict(
        files=list(xgrid.robustness_files(config)),
        tables=f"{xgrid.TABLES}/robustness",
        figures=f"{xgrid.FIGURES}/robustness",
        recipes={r: RECIPES[r] for r in sorted(studied)},
    )


def _alignment_report_spec(w):
    return dict(
        files=list(xgrid.alignment_files(config)),
        tables=f"{xgrid.TABLES}/alignment",
        figures=f"{xgrid.FIGURES}/alignment",
        scores=f"{xgrid.TABLES}/tidy.csv",
    )


def _fairness_report_spec(w):
    settings = config["fairness"]
    return dict(
        scores=f"{xgrid.TABLES}/tidy.csv",
        predictions_root=f"{xgrid.RESULTS}/predictions",
        labels_root=f"{xgrid.RESULTS}/labels" if SYNTHETIC else None,
        languages=f"{xgrid.SYNTHETIC_DIR}/languages.csv" if SYNTHETIC else None,
        bootstrap=settings["bootstrap"],
        seed=settings["seed"],
        out=f"{xgrid.RESULTS}/fairness",
    )


SPEC_BUILDERS = {
    "data": _data_spec,
    "labels": _labels_spec,
    "pretrain": _pretrain_spec,
    "export": _export_spec,
    "intermediate": _intermediate_spec,
    "finetune": _finetune_spec,
    "evaluate": _evaluate_spec,
    "retrieve": _retrieve_spec,
    "perturb": _perturb_spec,
    "robustness": _robustness_spec,
    "alignment": _alignment_spec,
    "robustness-report": _robustness_report_spec,
    "alignment-report": _alignment_report_spec,
    "fairness-report": _fairness_report_spec,
}


def stage_spec(stage, wildcards=None):
    """The spec of one job of `stage` (`xstilts <stage> --spec`): canonical JSON, checked
    here with the stage's spec class, so that a wrong key fails planning, not the job."""
    parts = SPEC_BUILDERS[stage](wildcards)
    xspecs.SPECS[stage].from_json(parts)
    return xcfg.canonical_json(parts)


def resource(stage, key):
    table = config.get("resources") or {}
    return {**table.get("default", {}), **table.get(stage, {})}.get(key)


def threads_for(stage):
    return resource(stage, "threads") or 1


def runtime_for(stage):
    """Minutes; grows with the attempt so that a timed-out job is retried with more time."""
    return lambda wildcards, attempt: (resource(stage, "runtime") or 60) * attempt


def mem_for(stage):
    return lambda wildcards, attempt: (resource(stage, "mem_mb") or 4000) * (1 + (attempt - 1) // 2)


def resources_for(stage):
    """SLURM resources of a stage: runtime and memory grow with the attempt; GPU requests
    (gpu, gpu_model, cpus_per_gpu) only when the config's `resources:` table asks for them."""
    res = {
        "runtime": runtime_for(stage),
        "mem_mb": mem_for(stage),
        "gpu": resource(stage, "gpu") or 0,
    }
    for key in ("gpu_model", "cpus_per_gpu"):
        if res["gpu"] and resource(stage, key):
            res[key] = resource(stage, key)
    return res


# A warm worker (src/xstilts/worker.py) forks local jobs from a process that has imported torch
# once; it saves seconds per job on laptops. Off with XSTILTS_WORKER=0; never used under SLURM.
_WORKER = {}
# every job's resource record (benchmarks/default_grid.py sums them per stage)
JOB_RECORDS = os.path.join(xgrid.RESULTS, "benchmarks", "jobs.jsonl")


def benchmark_for_log(log):
    """The benchmark file of the job whose log file is `log` (None if no rule has both)."""
    import re

    from snakemake.io import apply_wildcards, regex_from_filepattern

    for candidate in workflow.rules:
        if candidate.benchmark is None:
            continue
        for pattern in candidate.log:
            match = re.match(regex_from_filepattern(str(pattern)), log)
            if match:
                return apply_wildcards(str(candidate.benchmark), match.groupdict())
    return None


def start_worker():
    if workflow.local_exec:
        _WORKER.update(xworker.start_local(SRC) or {})


onstart:
    start_worker()


onsuccess:
    xworker.stop_local(_WORKER, benchmark_for_log, JOB_RECORDS)


onerror:
    xworker.stop_local(_WORKER, benchmark_for_log, JOB_RECORDS)
