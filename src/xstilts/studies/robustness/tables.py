"""Robustness tables from the robustness stage's JSON files (xstilts.stages.robustness).

Tidy frame (`collect`): one row per (model, recipe, seed, target, language, op, severity,
metric) with the perturbed `value`, the `clean` value of the same metric and language and
`drop = clean - value`; metric "score" is the language's task score (xstilts.metrics'
rule: mean(EM, F1) for QA, else F1 if present, else accuracy).

Averages (`run_averages`), per run (model, recipe, seed) and (op, severity):
1. per target: the mean over the set's non-English languages of the perturbed task score and of
   the clean task score of the same languages (so clean and perturbed cover the same languages);
2. the mean of those over the targets that every run has for this (op, severity);
3. drop = clean - perturbed. Op "all" is, per severity, the mean over the ops that every run has
   at that severity of the per-op averages.
Tables report mean ± sd (sample sd, ddof=1) over seeds.

Adversarial vs clean training (`adversarial_table`): for each pair {adversarial recipe: the
recipe with the same tasks and no `adversarial`}, per-seed differences (adversarial - clean
recipe, paired by seed) of the clean score, the perturbed score and the drop; a negative drop
difference means adversarial training made the model more robust.

The `robustness-report` stage writes them (`xstilts.studies.robustness.report`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from xstilts.analysis.scores import language_score, recipe_order, target_order
from xstilts.analysis.tables import MISSING, fmt_mean_sd, fmt_num, to_latex, to_markdown
from xstilts.data.schema import DataError
from xstilts.io.atomic import write_atomic
from xstilts.io.jsonio import check_run_header, read_json_object, run_rows
from xstilts.metrics import METRICS

log = logging.getLogger(__name__)

COLUMNS = ["model", "recipe", "seed", "target", "language", "op", "severity", "metric",
           "value", "clean", "drop"]
RUN = ["model", "recipe", "seed"]
KEYS = ("model", "recipe", "seed", "target", "task_metric", "clean", "sets")
SCORE = "score"
ALL_OPS = "all"
ENGLISH = "en"


# ---------------------------------------------------------------------------- collect

def _number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _metrics(value: Any, where: str) -> dict[str, float]:
    if not isinstance(value, dict) or not value:
        raise DataError(f"{where}: expected a non-empty object of metric values")
    if SCORE in value:
        raise DataError(f"{where}: metric name '{SCORE}' is reserved for the task score")
    for name, v in value.items():
        if not _number(v):
            raise DataError(f"{where}.{name}: expected a finite number, got {v!r}")
    return {k: float(v) for k, v in value.items()}


def _with_score(metric: str, scores: dict[str, float], where: str) -> dict[str, float]:
    try:
        return {**scores, SCORE: language_score(metric, scores)}
    except (KeyError, ValueError, TypeError) as err:
        raise DataError(f"{where}: cannot compute the task score: {err}") from err


def read_one(path: Path) -> list[dict[str, Any]]:
    """Tidy rows of one robustness JSON file."""
    raw = read_json_object(path, "robustness file")
    check_run_header(raw, path, KEYS, tuple(METRICS))
    metric = raw["task_metric"]
    if metric not in METRICS:
        raise DataError(f"{path}: key 'task_metric' is {metric!r}, not one of {tuple(METRICS)}")
    if not isinstance(raw["clean"], dict) or not raw["clean"]:
        raise DataError(f"{path}: key 'clean' must be a non-empty object of languages")
    clean = {lang: _with_score(metric, _metrics(v, f"{path}: clean.{lang}"),
                               f"{path}: clean.{lang}")
             for lang, v in raw["clean"].items()}
    if not isinstance(raw["sets"], list):
        raise DataError(f"{path}: key 'sets' must be a list")
    head = {k: raw[k] for k in ("model", "recipe", "seed", "target")}
    rows: list[dict[str, Any]] = []
    for i, entry in enumerate(raw["sets"]):
        at = f"{path}: sets[{i}]"
        if not isinstance(entry, dict) or any(k not in entry for k in ("op", "severity",
                                                                       "languages")):
            raise DataError(f"{at}: expected an object with 'op', 'severity' and 'languages'")
        if not _number(entry["severity"]):
            raise DataError(f"{at}.severity: expected a finite number, got {entry['severity']!r}")
        if not isinstance(entry["languages"], dict):
            raise DataError(f"{at}.languages: expected an object of languages")
        for lang, value in entry["languages"].items():
            where = f"{at}.languages.{lang}"
            scores = _with_score(metric, _metrics(value, where), where)
            if lang not in clean:
                raise DataError(f"{where}: no clean scores for language '{lang}'")
            for name, v in scores.items():
                if name not in clean[lang]:
                    raise DataError(f"{where}.{name}: no clean value of this metric")
                rows.append({**head, "language": lang, "op": str(entry["op"]),
                             "severity": float(entry["severity"]), "metric": name, "value": v,
                             "clean": clean[lang][name], "drop": clean[lang][name] - v})
    return rows


def collect(files: Sequence[Path]) -> pd.DataFrame:
    """Tidy robustness frame (COLUMNS) of robustness JSON files."""
    if not files:
        raise ValueError("no robustness files given")
    rows = run_rows(files, read_one, lambda path: log.warning("%s: no perturbed set scores", path))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["seed"] = frame["seed"].astype("int64")
    for col in ("severity", "value", "clean", "drop"):
        frame[col] = frame[col].astype("float64")
    return sort_frame(frame)


def sort_frame(frame: pd.DataFrame) -> pd.DataFrame:
    keys = ["model", "recipe", "seed", "target", "language", "op", "severity", "metric"]
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)[COLUMNS]


# ---------------------------------------------------------------------------- averages

def op_order(ops: Sequence[str]) -> list[str]:
    """The perturbation suite's order (xstilts.perturb.OPERATIONS) when known, "all" last."""
    try:
        from xstilts.perturb import OPERATIONS
    except ImportError:
        OPERATIONS = ()  # noqa: N806
    ops = set(ops)
    known = [o for o in OPERATIONS if o in ops]
    rest = sorted(ops - set(known) - {ALL_OPS})
    return known + rest + ([ALL_OPS] if ALL_OPS in ops else [])


def run_averages(frame: pd.DataFrame, over_ops: bool = True) -> pd.DataFrame:
    """Per run and (op, severity): clean, perturbed and drop averages (see the module doc).

    Columns: model, recipe, seed, op, severity, clean, perturbed, drop, targets.
    """
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"robustness frame lacks column(s) {missing}")
    s = frame[(frame["metric"] == SCORE) & (frame["language"] != ENGLISH)]
    cols = [*RUN, "op", "severity", "clean", "perturbed", "drop", "targets"]
    if s.empty:
        return pd.DataFrame(columns=cols)
    per_target = (s.groupby([*RUN, "op", "severity", "target"])[["value", "clean"]].mean()
                  .reset_index())
    parts = []
    for (op, sev), grp in per_target.groupby(["op", "severity"], sort=True):
        sets = grp.groupby(RUN)["target"].agg(frozenset)
        common = target_order(frozenset.intersection(*sets))
        sub = grp[grp["target"].isin(common)]
        avg = sub.groupby(RUN)[["value", "clean"]].mean().reset_index()
        parts.append(avg.assign(op=op, severity=sev, targets=", ".join(common)))
    out = pd.concat(parts, ignore_index=True).rename(columns={"value": "perturbed"})
    if over_ops:
        out = pd.concat([out, _over_ops(out)], ignore_index=True)
    out["drop"] = out["clean"] - out["perturbed"]
    return out[cols].sort_values([*RUN, "op", "severity"], kind="stable").reset_index(drop=True)


def _over_ops(avg: pd.DataFrame) -> pd.DataFrame:
    """Op "all": per run and severity, the mean over the ops every run has at that severity."""
    parts = []
    for sev, grp in avg.groupby("severity", sort=True):
        sets = grp.groupby(RUN)["op"].agg(frozenset)
        common = op_order(frozenset.intersection(*sets))
        sub = grp[grp["op"].isin(common)]
        mean = sub.groupby(RUN)[["perturbed", "clean"]].mean().reset_index()
        parts.append(mean.assign(op=ALL_OPS, severity=sev, targets="ops: " + ", ".join(common)))
    return pd.concat(parts, ignore_index=True) if parts else avg.iloc[0:0]


def _rows(avg: pd.DataFrame, baseline: str) -> list[tuple[str, str, str, float]]:
    out = []
    for model in sorted(set(avg["model"])):
        mine = avg[avg["model"] == model]
        for recipe in recipe_order(set(mine["recipe"]), baseline):
            r = mine[mine["recipe"] == recipe]
            for op in op_order(set(r["op"])):
                for sev in sorted(set(r.loc[r["op"] == op, "severity"])):
                    out.append((model, recipe, op, sev))
    return out


def robustness_table(frame: pd.DataFrame, baseline: str = "none") -> pd.DataFrame:
    """Per model x recipe x op x severity: clean, perturbed and drop, mean and sd over seeds.

    Columns: model, recipe, op, severity, n_seeds, clean, clean_sd, perturbed,
    perturbed_sd, drop, drop_sd, avg_over.
    """
    avg = run_averages(frame)
    keys = ["model", "recipe", "op", "severity"]
    stats = avg.groupby(keys)[["clean", "perturbed", "drop"]].agg(["mean", "std"])
    seeds = avg.groupby(keys)["seed"].nunique()
    over = avg.groupby(keys)["targets"].first()
    rows = []
    for key in _rows(avg, baseline):
        row: dict[str, Any] = dict(zip(keys, key, strict=True))
        row["n_seeds"] = int(seeds[key])
        for col in ("clean", "perturbed", "drop"):
            row[col] = float(stats.loc[key, (col, "mean")])
            row[f"{col}_sd"] = float(stats.loc[key, (col, "std")])
        row["avg_over"] = over[key]
        rows.append(row)
    return pd.DataFrame(rows, columns=[*keys, "n_seeds", "clean", "clean_sd", "perturbed",
                                       "perturbed_sd", "drop", "drop_sd", "avg_over"])


# ---------------------------------------------------------------------------- adversarial

def adversarial_pairs(recipes: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """{adversarial recipe: its clean counterpart} from the recipe config (config.recipes()).

    The counterpart has no (or a false) `adversarial` and the same `tasks`; among several, the
    one whose other settings (mlm, translated, sampler, ...) are equal too. Recipes without a
    unique counterpart are left out.
    """
    def rest(recipe: Mapping[str, Any]) -> dict:
        return {k: v for k, v in recipe.items() if k != "adversarial"}

    plain = {n: r for n, r in recipes.items() if not r.get("adversarial")}
    out: dict[str, str] = {}
    for name, recipe in recipes.items():
        if not recipe.get("adversarial"):
            continue
        same = [n for n, r in plain.items()
                if sorted(r.get("tasks") or []) == sorted(recipe.get("tasks") or [])]
        exact = [n for n in same if rest(plain[n]) == rest(recipe)]
        chosen = exact if exact else same
        if len(chosen) == 1:
            out[name] = chosen[0]
    return out


def adversarial_table(frame: pd.DataFrame, pairs: Mapping[str, str]) -> pd.DataFrame:
    """Adversarial minus clean training, paired by seed, per model x pair x op x severity.

    Columns: model, adversarial, clean_recipe, op, severity, n_pairs, d_clean, d_clean_sd,
    d_perturbed, d_perturbed_sd, d_drop, d_drop_sd (mean and sd over seeds of the per-seed
    differences).
    """
    avg = run_averages(frame)
    cols = ["model", "adversarial", "clean_recipe", "op", "severity", "n_pairs"]
    cols += [f"d_{c}{s}" for c in ("clean", "perturbed", "drop") for s in ("", "_sd")]
    by = {k: g.set_index("seed") for k, g in avg.groupby(["model", "recipe", "op",
                                                          "severity"])}
    rows = []
    for model, adv, op, sev in _rows(avg, "none"):
        if adv not in pairs or (model, pairs[adv], op, sev) not in by:
            continue
        a, c = by[(model, adv, op, sev)], by[(model, pairs[adv], op, sev)]
        common = sorted(set(a.index) & set(c.index))
        if not common:
            continue
        row: dict[str, Any] = {"model": model, "adversarial": adv, "clean_recipe": pairs[adv],
                               "op": op, "severity": sev, "n_pairs": len(common)}
        for col in ("clean", "perturbed", "drop"):
            diff = a.loc[common, col] - c.loc[common, col]
            row[f"d_{col}"] = float(diff.mean())
            row[f"d_{col}_sd"] = float(diff.std()) if len(common) > 1 else math.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=cols)


# ---------------------------------------------------------------------------- rendering

def fmt_severity(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _labels(table: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    keep = cols if table["model"].nunique() > 1 else [c for c in cols if c != "model"]
    out = table[keep].astype(str).reset_index(drop=True)
    out["severity"] = [fmt_severity(s) for s in table["severity"]]
    return out


def display_robustness(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    out = _labels(table, ["model", "recipe", "op", "severity"])
    out["seeds"] = table["n_seeds"].astype(int).astype(str).to_numpy()
    for col in ("clean", "perturbed", "drop"):
        out[col] = [fmt_mean_sd(m, s) for m, s in zip(table[col], table[f"{col}_sd"],
                                                       strict=True)]
    out["avg over"] = table["avg_over"].astype(str).to_numpy()
    return out, ["severity", "seeds", "clean", "perturbed", "drop"]


def display_adversarial(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    out = _labels(table, ["model", "adversarial", "clean_recipe", "op", "severity"])
    out["pairs"] = table["n_pairs"].astype(int).astype(str).to_numpy()
    for col in ("clean", "perturbed", "drop"):
        out[f"Δ{col}"] = [
            MISSING if math.isnan(m) else
            fmt_num(m, signed=True) + ("" if math.isnan(s) else f" ± {fmt_num(s)}")
            for m, s in zip(table[f"d_{col}"], table[f"d_{col}_sd"], strict=True)]
    return out, ["severity", "pairs", "Δclean", "Δperturbed", "Δdrop"]


def _write_formats(stem: Path, table: pd.DataFrame, display: pd.DataFrame,
                   numeric: list[str], caption: str) -> list[Path]:
    label = f"tab:{stem.name}"
    return [write_atomic(stem.with_suffix(".csv"), table.to_csv(index=False, lineterminator="\n")),
            write_atomic(stem.with_suffix(".md"), to_markdown(display, numeric)),
            write_atomic(stem.with_suffix(".tex"), to_latex(display, numeric, caption, label))]


AVG_NOTE = ("Per run: task score averaged over each set's non-English languages (clean on the "
            "same languages), then over the targets listed; op 'all' averages the ops. ")


def write_robustness_tables(frame: pd.DataFrame, out_dir: Path,
                            pairs: Mapping[str, str] | None = None,
                            baseline: str = "none") -> list[Path]:
    """robustness_tidy.csv, robustness.{csv,md,tex} and (with adversarial pairs present in the
    data) adversarial.{csv,md,tex}, atomically; returns the files."""
    out_dir = Path(out_dir)
    written = [write_atomic(out_dir / "robustness_tidy.csv",
                            sort_frame(frame).to_csv(index=False, lineterminator="\n"))]
    table = robustness_table(frame, baseline)
    disp, num = display_robustness(table)
    written += _write_formats(out_dir / "robustness", table, disp, num,
                              AVG_NOTE + "drop = clean - perturbed; mean ± sd over seeds.")
    adv = adversarial_table(frame, pairs or {})
    if len(adv):
        disp, num = display_adversarial(adv)
        caption = ("Adversarial minus clean training (paired by seed, mean ± sd): clean score, "
                   "perturbed score and drop; a negative Δdrop means more robust. " + AVG_NOTE)
        written += _write_formats(out_dir / "adversarial", adv, disp, num, caption)
    return written
