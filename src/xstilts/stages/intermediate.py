"""Stage: phase (ii) — intermediate training on one or more English tasks (+MLM, translated)."""

from __future__ import annotations

from xstilts.stages.common import (
    benchmark_languages,
    languages_of,
    log,
    setup,
    source_of,
    task_of,
)


def _train_data(spec: dict, name: str, recipe: dict, languages: list[str]):
    from datasets import concatenate_datasets

    from xstilts.data.load import load_split

    source = source_of(spec)
    task = task_of(spec, name)
    langs = [] if recipe.get("translated_only") else ["en"]
    if recipe.get("translated"):
        langs += [lang for lang in languages if lang != "en"]
    parts = [load_split(task, "train", lang, source) for lang in langs]
    return concatenate_datasets(parts) if len(parts) > 1 else parts[0]


def target_languages(spec: dict) -> list[str]:
    """Languages of the configured targets (for +MLM and translated data)."""
    source = source_of(spec)
    if source["kind"] == "synthetic":
        return benchmark_languages(source)
    langs: set[str] = set()
    for target in spec["targets"]:
        langs.update(languages_of(task_of(spec, target), source))
    return sorted(langs)


def run(spec: dict) -> None:
    setup(spec["threads"])
    from datasets import concatenate_datasets

    from xstilts.data.load import load_split, task_labels
    from xstilts.engine.training import TrainTask, train

    recipe = spec["recipe"]
    source = source_of(spec)
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
            corpus = corpus.shuffle(seed=int(spec["seed"])).select(range(n_task))
        tasks.append(TrainTask(name="mlm", spec=mlm, train=corpus, dev=None))
    summary = train(
        tasks,
        encoder_path=spec["base"],
        out_dir=spec["out"],
        scratch_dir=spec["scratch"],
        hparams=spec["hparams"],
        seed=int(spec["seed"]),
        threads=spec["threads"],
        sampler=recipe.get("sampler"),
        time_budget=spec.get("_time_budget"),
    )
    log.info("intermediate %s done: %s", "+".join(recipe["tasks"]), summary)
