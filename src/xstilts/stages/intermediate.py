"""Stage: phase (ii) — intermediate training on one or more English tasks (+MLM, translated,
multilingual, adversarial).

Recipe keys read here besides `tasks`, `mlm`, `sampler`: `translated` / `translated_only` (the
task's training data machine-translated into the target languages, with / without English),
`languages: {task: [lang, ...] | all}` (the languages whose training data a task contributes;
default English), `language_temperature: T` (a multilingual task's languages are resampled to
p_l ~ n_l^(1/T), keeping its size; 1 = as they come) and `adversarial` (FreeLB / FGM, see
`xstilts.engine.adversarial`).
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

from xstilts.data.languages import languages_of, source_languages
from xstilts.stages.common import (
    log,
    setup,
    source_of,
    task_of,
    write_json,
)
from xstilts.stages.specs import DEFAULT_JOB, IntermediateSpec, Job


def language_mix(sizes: dict[str, int], temperature: float, total: int) -> dict[str, int]:
    """Examples per language: `total` split by p_l ~ n_l^(1/T) (largest-remainder rounding, so
    the counts sum to `total`; ties by language name). T = 1: proportional (the sizes when
    `total` is their sum); T -> inf: uniform. Languages with no examples get none."""
    if not temperature > 0:
        raise ValueError(f"language_temperature must be positive, got {temperature}")
    if total < 0 or any(n < 0 for n in sizes.values()):
        raise ValueError(f"language_mix: negative sizes or total ({sizes}, {total})")
    present = {lang: n for lang, n in sizes.items() if n > 0}
    if not present:
        if total:
            raise ValueError("language_mix: no language has examples")
        return {lang: 0 for lang in sizes}
    exponent = 1.0 / temperature
    weights = {lang: math.exp(exponent * math.log(n)) for lang, n in present.items()}
    norm = sum(weights.values())
    exact = {lang: total * w / norm for lang, w in weights.items()}
    counts = {lang: math.floor(x + 1e-9) for lang, x in exact.items()}
    left = total - sum(counts.values())
    by_remainder = sorted(present, key=lambda lang: (-(exact[lang] - counts[lang]), lang))
    for lang in by_remainder[:max(0, left)]:
        counts[lang] += 1
    return {lang: counts.get(lang, 0) for lang in sizes}


def resample(ds, size: int, seed: int, key: str):
    """`size` rows of `ds`: a seeded permutation, cut (downsampling) or repeated (upsampling)."""
    import numpy as np

    n = len(ds)
    if size == n:
        return ds
    if n == 0:
        raise ValueError(f"cannot resample {key}: it has no examples")
    salt = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big")
    perm = np.random.default_rng([int(seed), salt]).permutation(n)
    return ds.select([int(perm[i % n]) for i in range(size)])


def _local_train_exists(task, source: dict, lang: str) -> bool:
    from xstilts.data.hub import local_path

    root = Path(source["path"])
    return any(local_path(root, task.name, "train", lang, ext).is_file()
               for ext in ("jsonl", "parquet"))


def task_languages(spec: IntermediateSpec, name: str, recipe: dict,
                   languages: list[str]) -> list[str]:
    """The languages whose `train` split task `name` contributes under `recipe`."""
    from xstilts.data.schema import DataError

    source = source_of(spec.benchmark)
    task = task_of(spec, name)
    entry = (recipe.get("languages") or {}).get(name)
    if entry is None:  # English; a task without English data (MasakhaNER): its own languages
        own = list(task.training_languages)
        langs = ["en"] if "en" in own or source["kind"] == "synthetic" else own
    elif entry == "all":
        if source["kind"] == "synthetic":
            # every benchmark language whose training file exists
            langs = [lang for lang in languages_of(task, source)
                     if _local_train_exists(task, source, lang)]
            if not langs:
                raise DataError(f"recipe languages.{name}: all: no training file of "
                                f"'{name}' under {source['path']}/hub/{name}/")
        else:
            langs = list(task.training_languages)
    elif isinstance(entry, list | tuple) and entry and all(isinstance(x, str) for x in entry):
        langs = list(dict.fromkeys(entry))
    else:
        raise ValueError(f"recipe languages.{name}: expected 'all' or a non-empty list of "
                         f"language codes, got {entry!r}")
    if recipe.get("translated"):
        langs += [lang for lang in languages if lang != "en" and lang not in langs]
    if recipe.get("translated_only"):
        langs = [lang for lang in langs if lang != "en"]
    if not langs:
        raise ValueError(f"intermediate recipe: task '{name}' has no training language left")
    return langs


def _train_data(spec: IntermediateSpec, name: str, recipe: dict, languages: list[str]):
    from datasets import concatenate_datasets

    from xstilts.data.load import load_split

    source = source_of(spec.benchmark)
    task = task_of(spec, name)
    langs = task_languages(spec, name, recipe, languages)
    parts = {lang: load_split(task, "train", lang, source) for lang in langs}
    temperature = float(recipe.get("language_temperature", 1.0))
    if len(parts) > 1 and temperature != 1.0:
        sizes = {lang: len(ds) for lang, ds in parts.items()}
        mix = language_mix(sizes, temperature, sum(sizes.values()))
        log.info("%s: examples per language %s (T=%g) -> %s", name, sizes, temperature, mix)
        parts = {lang: resample(ds, mix[lang], spec.seed, f"{name}:{lang}")
                 for lang, ds in parts.items() if mix[lang] > 0}
    data = list(parts.values())
    return concatenate_datasets(data) if len(data) > 1 else data[0]


def target_languages(spec: IntermediateSpec) -> list[str]:
    """Languages of the configured targets (for +MLM and translated data)."""
    source = source_of(spec.benchmark)
    if source["kind"] == "synthetic":
        return source_languages(source)
    langs: set[str] = set()
    for target in spec.targets:
        langs.update(languages_of(task_of(spec, target), source))
    return sorted(langs)


def run(spec: IntermediateSpec | dict, job: Job = DEFAULT_JOB) -> None:
    spec = IntermediateSpec.parse(spec)
    setup(job.threads)
    from datasets import concatenate_datasets

    from xstilts.data.load import load_split, task_labels
    from xstilts.engine.training import TrainTask, train

    recipe = spec.recipe
    source = source_of(spec.benchmark)
    languages = target_languages(spec)
    tasks = []
    for name in recipe["tasks"]:
        task = task_of(spec, name)
        dev = load_split(task, "validation", "en", source) if "validation" in task.splits else None
        labels = None if task.labels else task_labels(task, source)  # open label sets (CCG)
        tasks.append(
            TrainTask(
                name=name, spec=task, train=_train_data(spec, name, recipe, languages), dev=dev,
                labels=labels,
            )
        )
    if recipe.get("mlm"):
        mlm = task_of(spec, "mlm")
        corpus = concatenate_datasets(
            [load_split(mlm, "train", lang, source) for lang in languages]
        )
        # As many MLM sentences as task examples (a deterministic sample over all target
        # languages), so +MLM adds one more task to the mix rather than a pretraining run.
        n_task = sum(len(t.train) for t in tasks)
        if len(corpus) > n_task:
            corpus = corpus.shuffle(seed=spec.seed).select(range(n_task))
        tasks.append(TrainTask(name="mlm", spec=mlm, train=corpus, dev=None))
    summary = train(
        tasks,
        encoder_path=spec.model_path,
        out_dir=spec.out,
        scratch_dir=spec.scratch,
        hparams=spec.hparams,
        seed=spec.seed,
        threads=job.threads,
        sampler=recipe.get("sampler"),
        time_budget=job.time_budget,
        adversarial=recipe.get("adversarial"),
        eval_task=early_stopping_task(tasks),
    )
    log.info("intermediate %s done: %s", "+".join(recipe["tasks"]), summary)
    if spec.dev_out:
        write_json(Path(spec.dev_out), dev_report(spec, tasks, summary))


def early_stopping_task(tasks: list):
    """The task whose English dev score early-stops a recipe: its one supervised task (with
    MLM or translated data mixed in too); None for multi-task recipes (they train their
    `max_steps`)."""
    supervised = [t for t in tasks if t.spec.format != "mlm"]
    return supervised[0] if len(supervised) == 1 and supervised[0].dev is not None else None


def dev_report(spec: IntermediateSpec, tasks: list, summary: dict) -> dict:
    """The intermediate dev score file: per task the metric, the output model's English dev
    score, the chance score and loss (`xstilts.engine.convergence`) and whether the score is
    clearly above chance; the run's steps and final training loss (the last logged interval's,
    else the run's mean)."""
    from xstilts.engine.convergence import above_chance, chance_score

    report = {}
    for t in tasks:
        if t.name not in summary["dev_scores"]:
            continue
        score, chance = summary["dev_scores"][t.name], chance_score(t.spec, t.train, t.dev)
        report[t.name] = {"metric": t.spec.metric, "dev": score, "chance": chance,
                          "above_chance": above_chance(score, chance),
                          "chance_loss": summary["chance_loss"].get(t.name)}
        if not report[t.name]["above_chance"]:
            log.warning("intermediate task %s: dev %s %.4f is at chance (%.4f)", t.name,
                        t.spec.metric, score, chance)
    return {"model": spec.model_name or None, "recipe": spec.recipe_name or None,
            "seed": spec.seed, "steps": summary["steps"],
            "max_steps": summary["max_steps"], "best_step": summary["best_step"],
            "train_loss": summary["final_loss"] if summary["final_loss"] is not None
            else summary["train_loss"], "tasks": report}
