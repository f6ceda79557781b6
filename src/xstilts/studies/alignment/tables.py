"""Alignment tables from the alignment stage's JSONs (one per model x recipe x seed;
recipe "none" = the base model), optionally against transfer gains from the tidy scores table.

- tidy alignment frame: model, recipe, seed, language, layer, metric, condition, value
  ("clean" or "<op>-<severity>");
- alignment by layer per recipe (mean over languages and seeds), clean and perturbed;
- stability: perturbed minus clean at one layer;
- alignment change (recipe minus baseline, means over seeds) per language vs the transfer gain
  (recipe minus baseline of the task score averaged over seeds and over the fine-tuned targets
  that have the language), with Pearson and Spearman correlations.

"At one layer" is the retrieval layer (XTREME's middle layer, `default_layer(L)`) by default,
or the mean over all layers (`layer="mean"`), or a `hidden_states` index.

The `alignment-report` stage writes them (`xstilts.studies.alignment.report`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from xstilts.analysis.scores import SCORE
from xstilts.analysis.tables import fmt_num, to_markdown
from xstilts.io.atomic import write_atomic
from xstilts.io.errors import DataError
from xstilts.io.jsonio import check_renamed_fields

ALIGN_COLUMNS = ["model", "recipe", "seed", "language", "layer", "metric", "condition",
                 "value"]
CLEAN = "clean"
METRIC_LABELS = {"acc": "accuracy@1 (%)", "acc_centered": "accuracy@1, centred (%)",
                 "cka": "linear CKA", "cosine": "cosine, centred"}
Layer = int | str  # a hidden_states index, "retrieval" or "mean"


# ---------------------------------------------------------------------------- reading


def _read_one(path: Path) -> tuple[list[dict[str, Any]], int]:
    try:
        raw = json.loads(Path(path).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DataError(f"{path}: cannot read alignment JSON: {err}") from err
    if not isinstance(raw, dict):
        raise DataError(f"{path}: expected a JSON object")
    check_renamed_fields(raw, path)
    missing = [k for k in ("model", "recipe", "seed", "layers", "languages") if k not in raw]
    if missing:
        raise DataError(f"{path}: missing key(s) {missing}")
    n_layers = raw["layers"]
    if not isinstance(n_layers, int) or n_layers < 1:
        raise DataError(f"{path}: key 'layers' must be a positive integer, got {n_layers!r}")
    head = {"model": str(raw["model"]), "recipe": str(raw["recipe"]),
            "seed": int(raw["seed"])}
    rows: list[dict[str, Any]] = []
    if not isinstance(raw["languages"], dict) or not raw["languages"]:
        raise DataError(f"{path}: key 'languages' must be a non-empty object")
    for lang, entry in raw["languages"].items():
        if not isinstance(entry, dict) or CLEAN not in entry:
            raise DataError(f"{path}: languages.{lang} has no '{CLEAN}' metrics")
        conds = {CLEAN: entry[CLEAN], **(entry.get("perturbed") or {})}
        for cond, metrics in conds.items():
            where = f"{path}: languages.{lang}.{cond}"
            if not isinstance(metrics, dict):
                raise DataError(f"{where}: expected an object of metric lists")
            for metric, values in metrics.items():
                if not isinstance(values, list) or len(values) != n_layers + 1:
                    raise DataError(f"{where}.{metric}: expected a list of {n_layers + 1} values "
                                    f"(layers 0..{n_layers})")
                for layer, value in enumerate(values):
                    if value is not None and not isinstance(value, int | float):
                        raise DataError(f"{where}.{metric}[{layer}]: not a number: {value!r}")
                    rows.append({**head, "language": str(lang), "layer": layer,
                                 "metric": str(metric), "condition": str(cond),
                                 "value": math.nan if value is None else float(value)})
    return rows, n_layers


def read_alignment(paths: Sequence[Path]) -> pd.DataFrame:
    """Tidy frame (ALIGN_COLUMNS) of alignment JSONs (one per model x recipe x seed)."""
    if not paths:
        raise ValueError("no alignment files given")
    rows: list[dict[str, Any]] = []
    seen: dict[tuple, Path] = {}
    layers: dict[str, int] = {}
    for path in paths:
        one, n_layers = _read_one(Path(path))
        key = (one[0]["model"], one[0]["recipe"], one[0]["seed"])
        if key in seen:
            raise DataError(f"{path}: duplicate run {key} (also in {seen[key]})")
        if layers.setdefault(key[0], n_layers) != n_layers:
            raise DataError(f"{path}: model '{key[0]}' has {n_layers} layers here, "
                            f"{layers[key[0]]} elsewhere")
        seen[key] = Path(path)
        rows.extend(one)
    frame = pd.DataFrame(rows, columns=ALIGN_COLUMNS)
    return frame.sort_values(ALIGN_COLUMNS[:7], kind="stable").reset_index(drop=True)


def _num_layers(frame: pd.DataFrame, model: str) -> int:
    """L of `model`: its metric lists run over layers 0..L."""
    return int(frame.loc[frame["model"] == model, "layer"].max())


def retrieval_layer(num_layers: int) -> int:
    """XTREME's retrieval layer (`xstilts.grid.layers.default_layer`)."""
    from xstilts.grid.layers import default_layer

    return default_layer(num_layers)


def at_layer(frame: pd.DataFrame, layer: Layer = "retrieval", value: str = "value"
             ) -> pd.DataFrame:
    """Rows of one layer per model (index, "retrieval"), or the mean over layers ("mean");
    the "layer" column is dropped."""
    keys = [c for c in frame.columns if c not in ("layer", value)]
    if layer == "mean":
        return frame.groupby(keys, sort=True, dropna=False)[value].mean().reset_index()
    parts = []
    for model, grp in frame.groupby("model", sort=True):
        idx = retrieval_layer(_num_layers(frame, model)) if layer == "retrieval" else int(layer)
        if idx not in set(grp["layer"]):
            raise ValueError(f"model '{model}': no layer {idx} (have 0..{grp['layer'].max()})")
        parts.append(grp[grp["layer"] == idx].drop(columns="layer"))
    return pd.concat(parts, ignore_index=True)


def describe_layer(layer: Layer) -> str:
    return {"retrieval": "at the retrieval layer", "mean": "averaged over layers"}.get(
        str(layer), f"at layer {layer}")


# ---------------------------------------------------------------------------- tables


def layer_means(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean and sd over languages x seeds: model, recipe, condition, metric, layer, mean,
    sd, n."""
    keys = ["model", "recipe", "condition", "metric", "layer"]
    stats = frame.groupby(keys, sort=True)["value"].agg(["mean", "std", "count"]).reset_index()
    return stats.rename(columns={"std": "sd", "count": "n"})


def alignment_change(frame: pd.DataFrame, baseline: str = "none") -> pd.DataFrame:
    """Recipe minus baseline (each averaged over seeds) per model, language, layer, metric and
    condition: columns model, recipe, language, layer, metric, condition, change."""
    keys = ["model", "recipe", "language", "layer", "metric", "condition"]
    if baseline not in set(frame["recipe"]):
        raise ValueError(f"baseline '{baseline}' not among the alignment runs "
                         f"{sorted(set(frame['recipe']))}")
    means = frame.groupby(keys, sort=True)["value"].mean().reset_index()
    base = means[means["recipe"] == baseline].drop(columns="recipe")
    other = means[means["recipe"] != baseline]
    merged = other.merge(base, on=[k for k in keys if k != "recipe"],
                         suffixes=("", "_base"))
    merged["change"] = merged["value"] - merged["value_base"]
    return merged[[*keys, "change"]].reset_index(drop=True)


def stability_table(frame: pd.DataFrame, layer: Layer = "retrieval") -> pd.DataFrame:
    """Perturbed vs clean at `layer`, mean over languages (with both) and seeds: model,
    recipe, metric, condition, clean, perturbed, delta."""
    one = at_layer(frame, layer)
    keys = ["model", "recipe", "seed", "language", "metric"]
    clean = one[one["condition"] == CLEAN].drop(columns="condition")
    noisy = one[one["condition"] != CLEAN]
    cols = ["model", "recipe", "metric", "condition", "clean", "perturbed", "delta"]
    if noisy.empty:
        return pd.DataFrame(columns=cols)
    both = noisy.merge(clean, on=keys, suffixes=("", "_clean"))
    both = both.rename(columns={"value": "perturbed", "value_clean": "clean"})
    both["delta"] = both["perturbed"] - both["clean"]
    out = both.groupby(["model", "recipe", "metric", "condition"], sort=True)[
        ["clean", "perturbed", "delta"]].mean().reset_index()
    return out[cols]


def transfer_gain(scores: pd.DataFrame, baseline: str = "none",
                  targets: Sequence[str] | None = None) -> pd.DataFrame:
    """Per model, recipe and language: mean task score over seeds and over the targets (default:
    the non-retrieval ones, which are fine-tuned) that both the recipe and `baseline` have, minus
    the baseline's. Columns model, recipe, language, score, baseline_score, gain,
    n_targets."""
    sub = scores[scores["metric"] == SCORE]
    if targets is None:
        targets = [t for t in sorted(set(sub["target"])) if not _is_retrieval(t)]
    sub = sub[sub["target"].isin(targets)]
    per = sub.groupby(["model", "recipe", "target", "language"], sort=True)[
        "value"].mean().reset_index()
    base = per[per["recipe"] == baseline].drop(columns="recipe")
    other = per[per["recipe"] != baseline]
    both = other.merge(base, on=["model", "target", "language"], suffixes=("", "_base"))
    cols = ["model", "recipe", "language", "score", "baseline_score", "gain", "n_targets"]
    if both.empty:
        return pd.DataFrame(columns=cols)
    out = both.groupby(["model", "recipe", "language"], sort=True).agg(
        score=("value", "mean"), baseline_score=("value_base", "mean"),
        n_targets=("target", "nunique")).reset_index()
    out["gain"] = out["score"] - out["baseline_score"]
    return out[cols]


def _is_retrieval(target: str) -> bool:
    from xstilts.tasks.registry import get_task

    try:
        return get_task(target).format == "retrieval"
    except Exception:  # a task defined only in a config: treat as fine-tuned
        return False


def change_vs_gain(frame: pd.DataFrame, scores: pd.DataFrame, metric: str = "acc_centered",
                   layer: Layer = "retrieval", condition: str = CLEAN, baseline: str = "none",
                   targets: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per model x recipe x language: alignment change of `metric` (`condition`, at
    `layer`) and the transfer gain. Columns model, recipe, language, change, gain."""
    change = alignment_change(frame[(frame["metric"] == metric)
                                    & (frame["condition"] == condition)], baseline)
    change = at_layer(change, layer, value="change")
    gain = transfer_gain(scores, baseline, targets)
    joined = change.merge(gain, on=["model", "recipe", "language"])
    joined = joined.dropna(subset=["change", "gain"])
    return joined[["model", "recipe", "language", "change", "gain"]].reset_index(drop=True)


def correlation(x: Sequence[float], y: Sequence[float]) -> dict[str, float]:
    """Pearson r and Spearman rho with p-values (scipy). NaN with fewer than 3 points or a
    constant side."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    nan = {"pearson_r": math.nan, "pearson_p": math.nan, "spearman_rho": math.nan,
           "spearman_p": math.nan}
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return nan
    pr, sr = stats.pearsonr(x, y), stats.spearmanr(x, y)
    return {"pearson_r": float(pr.statistic), "pearson_p": float(pr.pvalue),
            "spearman_rho": float(sr.statistic), "spearman_p": float(sr.pvalue)}


def correlation_table(joined: pd.DataFrame) -> pd.DataFrame:
    """Correlations of change vs gain per model and over all points ("all")."""
    groups = [(m, g) for m, g in joined.groupby("model", sort=True)]
    if len(groups) != 1:
        groups.append(("all", joined))
    rows = [{"model": m, "n": len(g), **correlation(g["change"], g["gain"])} for m, g in groups]
    return pd.DataFrame(rows, columns=["model", "n", "pearson_r", "pearson_p", "spearman_rho",
                                       "spearman_p"])


# ---------------------------------------------------------------------------- outputs


def write_table(stem: Path, table: pd.DataFrame, numeric: Sequence[str],
                 digits: int = 2) -> list[Path]:
    display = table.copy()
    for col in table.columns:
        if col in numeric:
            display[col] = [fmt_num(v, digits) for v in table[col]]
        else:
            display[col] = table[col].astype(str)
    csv = table.to_csv(index=False, lineterminator="\n")
    return [write_atomic(stem.with_suffix(".csv"), csv),
            write_atomic(stem.with_suffix(".md"), to_markdown(display, numeric))]


def by_layer_wide(means: pd.DataFrame) -> pd.DataFrame:
    wide = means.pivot_table(index=["model", "recipe", "condition", "metric"],
                             columns="layer", values="mean", sort=True)
    wide.columns = [f"L{c}" for c in wide.columns]
    return wide.reset_index()
