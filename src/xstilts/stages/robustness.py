"""Stage: evaluate one fine-tuned checkpoint on every perturbed test set of its target.

spec (`specs.RobustnessSpec`): the evaluate stage's fields (`target`, `model_path`, `benchmark`,
`ids`, optional `tasks`) plus `perturbed` (the perturb stage's `manifest.json`), `clean_scores`
(the evaluate stage's scores JSON of the same checkpoint) and `out`. Predictions and scores are
computed exactly as `xstilts.stages.evaluate` does (its `references` and `metric_language`), on
the perturbed split read through `xstilts.stages.perturb.perturbed_source`.

Output JSON: `{ids..., "target", "task_metric", "perturb_seed", "clean": {lang: scores},
"sets": [{"op", "severity", "languages": {lang: scores}}]}`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from xstilts.data.languages import languages_of
from xstilts.data.schema import DataError
from xstilts.io.jsonio import check_renamed_fields, read_json_object
from xstilts.io.provenance import format_metrics
from xstilts.stages.common import log, setup, source_of, task_of, write_json
from xstilts.stages.evaluate import predict_and_score
from xstilts.stages.perturb import perturbed_source
from xstilts.stages.specs import DEFAULT_JOB, Job, RobustnessSpec
from xstilts.tasks.registry import TaskSpec

MANIFEST_KEYS = ("target", "seed", "sets")
SET_KEYS = ("op", "severity", "path", "languages")


def _set_path(value: Any, manifest: Path, where: str) -> Path:
    """A set's folder: absolute, or relative to the working directory (the perturb stage's
    convention), else relative to the manifest's folder."""
    if not isinstance(value, str) or not value:
        raise DataError(f"{where}: expected a folder path, got {value!r}")
    path = Path(value)
    if path.is_absolute() or path.is_dir():
        return path
    if (manifest.parent / path).is_dir():
        return manifest.parent / path
    raise DataError(f"{where}: perturbed set folder {value!r} not found (relative to the "
                    f"working directory or to {manifest.parent})")


def read_manifest(path: str | Path, target: str, languages: list[str]) -> dict:
    """Validate a perturb manifest; set paths are resolved (see `_set_path`)."""
    path = Path(path)
    raw = read_json_object(path, "perturbation manifest")
    missing = [k for k in MANIFEST_KEYS if k not in raw]
    if missing:
        raise DataError(f"{path}: missing key(s) {missing}")
    if raw["target"] != target:
        raise DataError(f"{path}: key 'target' is {raw['target']!r}, the checkpoint's is "
                        f"{target!r}")
    if not isinstance(raw["sets"], list):
        raise DataError(f"{path}: key 'sets' must be a list")
    sets, seen = [], set()
    for i, entry in enumerate(raw["sets"]):
        at = f"{path}: sets[{i}]"
        if not isinstance(entry, dict):
            raise DataError(f"{at}: expected an object")
        missing = [k for k in SET_KEYS if k not in entry]
        if missing:
            raise DataError(f"{at}: missing key(s) {missing}")
        if not isinstance(entry["op"], str) or not entry["op"]:
            raise DataError(f"{at}.op: expected a non-empty string, got {entry['op']!r}")
        sev = entry["severity"]
        if isinstance(sev, bool) or not isinstance(sev, int | float) or not math.isfinite(sev):
            raise DataError(f"{at}.severity: expected a finite number, got {sev!r}")
        langs = entry["languages"]
        if not isinstance(langs, list) or not all(isinstance(x, str) for x in langs):
            raise DataError(f"{at}.languages: expected a list of language codes")
        unknown = sorted(set(langs) - set(languages))
        if unknown:
            raise DataError(f"{at}.languages: {unknown} are not evaluation languages of "
                            f"'{target}' ({languages})")
        key = (entry["op"], sev)
        if key in seen:
            raise DataError(f"{at}: duplicate set op={key[0]!r} severity={key[1]!r}")
        seen.add(key)
        sets.append({**entry, "path": _set_path(entry["path"], path, f"{at}.path")})
    return {**raw, "sets": sets}


def read_clean(path: str | Path, ids: dict, target: str) -> dict[str, dict[str, float]]:
    """The evaluate stage's per-language scores, checked against this job's ids and target."""
    raw = read_json_object(path, "clean scores")
    check_renamed_fields(raw, path)
    for key, value in {**ids, "target": target}.items():
        if key in raw and raw[key] != value:
            raise DataError(f"{path}: key '{key}' is {raw[key]!r}, this job's is {value!r}")
    langs = raw.get("languages")
    if not isinstance(langs, dict) or not langs:
        raise DataError(f"{path}: key 'languages' must be a non-empty object of languages")
    return langs


def score_split(task: TaskSpec, predictor: Any, ds: Any, lang: str, source: dict
                ) -> dict[str, float]:
    """Predict a canonical test split and score it as the evaluate stage does."""
    return predict_and_score(task, predictor, ds, lang, source)[2]


def run(spec: RobustnessSpec | dict, job: Job = DEFAULT_JOB) -> None:
    spec = RobustnessSpec.parse(spec)
    setup(job.threads)
    from xstilts.data.load import load_split
    from xstilts.engine.predict import Predictor

    source = source_of(spec.benchmark)
    task = task_of(spec, spec.target)
    if task.format == "retrieval":
        raise ValueError(f"task '{task.name}': retrieval is not evaluated from a fine-tuned model")
    manifest = read_manifest(spec.perturbed, task.name, languages_of(task, source))
    clean = read_clean(spec.clean_scores, spec.ids, task.name)
    predictor = Predictor(task, spec.model_path, threads=job.threads)
    subset = manifest.get("clean")
    if manifest.get("max_examples") and subset:
        # the sets perturb a capped sample: the clean baseline is that same sample
        path = _set_path(subset["path"], Path(spec.perturbed), "clean.path")
        base = perturbed_source(path, source)
        clean = {lang: score_split(task, predictor, load_split(task, "test", lang, base), lang,
                                   source)
                 for lang in clean if lang in subset.get("languages", clean)}
    sets = []
    for entry in manifest["sets"]:
        pert = perturbed_source(entry["path"], source)
        scores: dict[str, dict[str, float]] = {}
        for lang in entry["languages"]:
            ds = load_split(task, "test", lang, pert)
            scores[lang] = score_split(task, predictor, ds, lang, source)
            log.info("%s %s %s-%s: %s", task.name, lang, entry["op"], entry["severity"],
                     format_metrics(scores[lang]))
        sets.append({"op": entry["op"], "severity": entry["severity"], "languages": scores})
    write_json(spec.out, {**spec.ids, "target": task.name, "task_metric": task.metric,
                             "perturb_seed": manifest["seed"], "clean": clean, "sets": sets})
