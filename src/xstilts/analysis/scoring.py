"""Score a predictions folder against a labels folder exactly as XTREME's evaluate.py does.

For every XTREME task whose sub-folder exists in both folders, every language of the task
(evaluate.py's lists, i.e. the registry's) is scored; a task's metrics are averaged over its
languages, its score is mean(EM, F1) for QA, else F1, else accuracy; group scores need all of a
group's tasks and the XTREME score ("all_task") all 9 tasks.

`benchmark="xtreme_r"` (CLI `--xtreme_version xtreme-r`, as the official script) scores XTREME-R
instead: its tasks and language lists (registry `languages_xtreme_r`), its groups, and
`all_task` over all 10 tasks (google-research/xtreme evaluate.py at da430dd); since xstilts has
no LAReQA and Mewsli-X, the mean over the 8 others is reported as "implemented_tasks".

CLI: python -m xstilts.analysis.scoring --predictions_folder P --gold_folder G [--tasks a,b]
     [--out_dir D] [--xtreme_version xtreme|xtreme-r]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from xstilts.analysis.submission import (
    read_labels,
    read_predictions,
    submission_kind,
    submission_path,
)
from xstilts.data.schema import DataError
from xstilts.metrics import SYNTHETIC_LANGUAGE, compute, task_score
from xstilts.tasks.benchmark import (
    XTREME_R_IMPLEMENTED,
    XTREME_R_TASKS,
    XTREME_TASKS,
    group_scores,
    xtreme_r_group_scores,
    xtreme_r_score,
    xtreme_r_task_score,
    xtreme_score,
)
from xstilts.tasks.registry import (
    RegistryError,
    TaskSpec,
    benchmark_languages,
    benchmark_tasks,
    get_task,
)

PER_LANGUAGE_COLUMNS = ["task", "language", "metric", "value"]
OVERALL_COLUMNS = ["scope", "name", "value"]


def _subdirs(folder: Path, what: str) -> set[str]:
    if not folder.is_dir():
        raise DataError(f"{folder}: {what} folder not found")
    return {p.name for p in folder.iterdir() if p.is_dir()}


def synthetic_metric_language(lang: str) -> str:
    """mini-XTREME: English keeps its rules, synthetic languages get MLQA's neutral rules."""
    return lang if lang == "en" else SYNTHETIC_LANGUAGE


def discover_languages(spec: TaskSpec, label_dir: str | os.PathLike[str]) -> list[str]:
    """Languages of the `test-<lang>.<ext>` files in `<label_dir>/<task>`, sorted."""
    ext = submission_path(spec, "x", label_dir).suffix
    folder = Path(label_dir) / spec.name
    return sorted(p.name[len("test-"):-len(ext)] for p in folder.glob(f"test-*{ext}"))


def score_language(
    spec: TaskSpec,
    lang: str,
    pred_dir: str | os.PathLike[str],
    label_dir: str | os.PathLike[str],
    metric_lang: str | None = None,
    real: bool = True,
) -> dict[str, float]:
    """Scores of one task and language from its prediction and label files.

    `metric_lang` is the language the metric sees (MLQA normalization); default `lang`.
    `real`: all-0 multiple-choice gold is XCOPA's withheld-label placeholder and refused
    (mini-XTREME's tiny sets may be all 0 by chance: `real=False`).
    """
    pred_file = submission_path(spec, lang, pred_dir)
    label_file = submission_path(spec, lang, label_dir)
    predictions = read_predictions(spec, lang, pred_dir)
    labels = read_labels(spec, lang, label_dir)
    kind = submission_kind(spec)
    if (real and spec.format == "multiple_choice" and len(labels) >= 2
            and all(x == 0 for x in labels)):
        raise DataError(f"{label_file}: every gold label is 0, the official XCOPA download's "
                        "placeholder for withheld test labels; refusing to score")
    if kind in ("label", "index", "tag") and len(predictions) != len(labels):
        unit = "sentences" if kind == "tag" else "lines"
        raise DataError(
            f"{pred_file} has {len(predictions)} {unit} but {label_file} has {len(labels)}"
        )
    try:
        return compute(spec.metric, predictions, labels, metric_lang or lang)
    except DataError:
        raise
    except ValueError as err:
        raise DataError(f"{pred_file} vs {label_file}: {err}") from None


def score_folder(
    pred_dir: str | os.PathLike[str],
    label_dir: str | os.PathLike[str],
    tasks: Sequence[str] | None = None,
    languages: Mapping[str, Sequence[str]] | str | None = None,
    metric_language: Callable[[str], str] | None = None,
    benchmark: str = "xtreme",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score a submission folder; returns (per_language, overall) DataFrames.

    per_language: task, language, metric, value (one row per language and metric).
    overall: scope, name, value with scope 'xtreme' (name 'all_task'), 'group', 'task_score'
    and 'task_metric' (name '<task>/<metric>': the metric averaged over languages).
    `tasks=None` scores the XTREME tasks present in both folders (like evaluate.py); tasks
    named explicitly must be present. `languages` overrides the tasks' language lists
    (evaluate.py's, from the registry): a mapping task -> languages, or "discover" to score
    every `test-<lang>` file of the labels folder. `metric_language(lang)` names the language
    the metric uses (e.g. `synthetic_metric_language` for mini-XTREME); default `lang`.
    `benchmark` is "xtreme" or "xtreme_r" (its tasks, languages, task scores and overall rows:
    scope 'xtreme_r' with names 'all_task' (all 10 tasks) and 'implemented_tasks' (8)).
    """
    if isinstance(languages, str) and languages != "discover":
        raise ValueError(f"languages must be a mapping, None or 'discover', not {languages!r}")
    try:
        bench_tasks = benchmark_tasks(benchmark)
    except RegistryError as err:
        raise ValueError(str(err)) from None
    pred_dir, label_dir = Path(pred_dir), Path(label_dir)
    available = _subdirs(pred_dir, "predictions") & _subdirs(label_dir, "labels")
    if tasks is None:
        selected = [t for t in bench_tasks if t in available]
    else:
        selected = list(tasks)
        for task in selected:
            for folder in (pred_dir, label_dir):
                if not (folder / task).is_dir():
                    raise DataError(f"{folder / task}: task folder not found")
    rows: list[tuple[str, str, str, float]] = []
    averages: dict[str, dict[str, float]] = {}
    scores: dict[str, float] = {}
    for task in selected:
        try:
            spec = get_task(task)
        except RegistryError as err:
            raise DataError(str(err)) from None
        if languages == "discover":
            langs = discover_languages(spec, label_dir)
        elif isinstance(languages, Mapping) and task in languages:
            langs = list(languages[task])
        elif task in bench_tasks:
            langs = list(benchmark_languages(spec, benchmark))
        else:
            langs = list(spec.languages)
        if not langs:
            raise DataError(f"task '{task}' has no evaluation languages ({label_dir / task})")
        per_metric: dict[str, list[float]] = {}
        for lang in langs:
            metric_lang = metric_language(lang) if metric_language else lang
            scores_lang = score_language(spec, lang, pred_dir, label_dir, metric_lang,
                                         real=metric_language is not synthetic_metric_language)
            for metric, value in scores_lang.items():
                rows.append((task, lang, metric, value))
                per_metric.setdefault(metric, []).append(value)
        averages[task] = {m: sum(v) / len(v) for m, v in per_metric.items()}
        if benchmark == "xtreme_r":
            scores[task] = xtreme_r_task_score(task, averages[task])
        else:
            scores[task] = task_score(spec.metric, averages[task])

    overall: list[tuple[str, str, float]] = []
    if benchmark == "xtreme_r":
        if all(t in scores for t in XTREME_R_TASKS):
            overall.append(("xtreme_r", "all_task", xtreme_r_score(scores)))
        if all(t in scores for t in XTREME_R_IMPLEMENTED):
            overall.append(("xtreme_r", "implemented_tasks",
                            xtreme_r_score(scores, XTREME_R_IMPLEMENTED)))
        overall += [("group", g, v) for g, v in xtreme_r_group_scores(scores).items()]
    else:
        if all(t in scores for t in XTREME_TASKS):
            overall.append(("xtreme", "all_task", xtreme_score(scores)))
        overall += [("group", g, v) for g, v in group_scores(scores).items()]
    overall += [("task_score", t, v) for t, v in scores.items()]
    overall += [
        ("task_metric", f"{t}/{m}", v) for t, avg in averages.items() for m, v in avg.items()
    ]
    return (
        pd.DataFrame(rows, columns=PER_LANGUAGE_COLUMNS),
        pd.DataFrame(overall, columns=OVERALL_COLUMNS),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m xstilts.analysis.scoring",
        description="Score an XTREME submission folder as google-research/xtreme's evaluate.py.",
    )
    parser.add_argument("--predictions_folder", "--prediction_folder", required=True,
                        help="folder with <task>/test-<lang>.<tsv|json> predictions")
    parser.add_argument("--gold_folder", "--label_folder", required=True,
                        help="folder with the gold labels in the same layout")
    parser.add_argument("--tasks", default=None,
                        help="comma-separated tasks (default: XTREME tasks present in both)")
    parser.add_argument("--discover_languages", action="store_true",
                        help="score every test-<lang> file of the gold folder instead of "
                        "XTREME's language lists (e.g. mini-XTREME)")
    parser.add_argument("--synthetic", action="store_true",
                        help="mini-XTREME: MLQA's neutral rules for every language but en")
    parser.add_argument("--xtreme_version", default="xtreme", choices=["xtreme", "xtreme-r"],
                        help="the benchmark version to score (as the official evaluate.py)")
    parser.add_argument("--out_dir", default=None,
                        help="also write per_language.csv and overall.csv here")
    args = parser.parse_args(argv)
    tasks = [t for t in args.tasks.split(",") if t] if args.tasks else None
    try:
        per_language, overall = score_folder(
            args.predictions_folder, args.gold_folder, tasks,
            languages="discover" if args.discover_languages else None,
            metric_language=synthetic_metric_language if args.synthetic else None,
            benchmark=args.xtreme_version.replace("-", "_"),
        )
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if per_language.empty:
        print("error: no task folder present in both folders", file=sys.stderr)
        return 2
    if args.out_dir:
        out = Path(args.out_dir)
        out.mkdir(parents=True, exist_ok=True)
        per_language.to_csv(out / "per_language.csv", index=False)
        overall.to_csv(out / "overall.csv", index=False)
    for (task, metric), group in per_language.groupby(["task", "metric"], sort=False):
        cells = ", ".join(f"{lang}={value:.2f}" for lang, value in
                          zip(group["language"], group["value"], strict=True))
        print(f"{task} {metric}: {cells}")
    print()
    print(overall.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
