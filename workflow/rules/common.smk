# Config validation, wildcard constraints and the small helpers the rules share.
import os
import shlex
import sys

from snakemake.utils import update_config, validate

sys.path.insert(0, os.path.join(workflow.basedir, "src"))  # the library of this checkout

from xstilts.grid import config as xcfg  # noqa: E402
from xstilts.grid import paths as xgrid  # noqa: E402

# `--config` overrides: nested numbers are strings from Snakemake's parser (seeds=[1,2])
if workflow.config_settings.config:
    update_config(config, xcfg.typed_overrides(workflow.config_settings.config))
try:  # the files strictly (duplicate keys, size), then the merged config's size and numbers
    for _file in workflow.configfiles:
        xcfg.load_file(_file)
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

# Rules run the library of this checkout (installed or not, conda env or not).
SRC = os.path.join(workflow.basedir, "src")
PYTHON = f"PYTHONPATH={shlex.quote(SRC)}${{PYTHONPATH:+:$PYTHONPATH}} python"
# `exec`: the stage replaces the job's shell, so that SIGTERM (SLURM preemption, `--signal` before
# the time limit) reaches it first instead of ending the shell (training then saves the step).
XSTILTS = f"PYTHONPATH={shlex.quote(SRC)}${{PYTHONPATH:+:$PYTHONPATH}} exec python -m xstilts"
CONDA_ENV = "../../envs/xstilts.yaml"

# A relative model path is looked up in the working directory, then in this checkout (where the
# shipped assets/models/tiny lives), so `--directory elsewhere` still finds the shipped model.
for _entry in config["models"].values():
    _path = _entry.get("path")
    if _entry["init"] == "path" and _path and not os.path.isabs(_path) \
            and not os.path.exists(_path) \
            and os.path.isdir(os.path.join(workflow.basedir, _path)):
        _entry["path"] = os.path.join(workflow.basedir, _path)

# Training jobs read the tracking settings from the environment, not their params: switching
# tracking on or off reruns nothing (xstilts.engine.tracking).
os.environ["XSTILTS_TRACKING"] = xcfg.canonical_json(config.get("tracking") or {})

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


def spec(**parts):
    """A job's spec: canonical sorted-key JSON, so that only a change of its own slice reruns it."""
    return xcfg.canonical_json(parts)


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
    res = {"runtime": runtime_for(stage), "mem_mb": mem_for(stage),
           "gpu": resource(stage, "gpu") or 0}
    for key in ("gpu_model", "cpus_per_gpu"):
        if res["gpu"] and resource(stage, key):
            res[key] = resource(stage, key)
    return res


# A warm worker (src/xstilts/worker.py) forks local jobs from a process that has imported torch
# once; it saves seconds per job on laptops. Off with XSTILTS_WORKER=0; never used under SLURM.
_worker = {}


def start_worker():
    import subprocess

    from xstilts.worker import socket_dir

    if not workflow.local_exec or os.environ.get("XSTILTS_WORKER") == "0":
        return
    sock = os.path.join(socket_dir(), "worker.sock")
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    _worker["dir"] = os.path.dirname(sock)
    _worker["proc"] = subprocess.Popen([sys.executable, "-m", "xstilts.worker", sock], env=env,
                                       stdin=subprocess.DEVNULL)
    os.environ["XSTILTS_WORKER"] = sock


def stop_worker():
    import shutil

    proc = _worker.pop("proc", None)
    if proc is not None:
        proc.terminate()
        proc.wait(timeout=30)
        from xstilts.worker import RECORDS, merge_benchmarks

        # Snakemake benchmarked the thin clients: their benchmark files get the forked jobs'
        # own wall time, CPU time and max RSS instead.
        records = os.path.join(os.path.dirname(os.environ["XSTILTS_WORKER"]), RECORDS)
        merge_benchmarks(records, benchmark_for_log)
    if _worker.get("dir"):  # (a worker stopped while still starting leaves it)
        shutil.rmtree(_worker.pop("dir"), ignore_errors=True)


def benchmark_for_log(log):
    """The benchmark file of the job whose log file is `log` (None if no rule has both)."""
    import re

    from snakemake.io import apply_wildcards, regex_from_filepattern

    for rule in workflow.rules:
        if rule.benchmark is None:
            continue
        for pattern in rule.log:
            match = re.match(regex_from_filepattern(str(pattern)), log)
            if match:
                return apply_wildcards(str(rule.benchmark), match.groupdict())
    return None


onstart:
    start_worker()


onsuccess:
    stop_worker()


onerror:
    stop_worker()
