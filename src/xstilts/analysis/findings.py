"""Does the run show the paper's findings? One verdict per finding, from the improvement
replicates (`analysis.intervals`) by a rule written here, never chosen by hand.

The findings (Phang et al. 2020, "English intermediate-task training improves zero-shot
cross-lingual transfer too", arXiv 2005.13013, abstract and results):

- retrieval: large gains on BUCC and Tatoeba, the largest of all targets. Here: the mean gain
  of the single-task recipes on the retrieval targets (> 0), and that gain minus their mean gain
  on the other targets (> 0).
- qa: moderate gains on the question-answering targets, SQuAD among the best tasks. Here: the
  mean gain of the SQuAD (QA-format) single-task recipes on the QA targets (> 0).
- xnli: little gain on XNLI (our reading of the paper's results; XTREME's XNLI trains on MNLI's
  training set, so NLI-like intermediate tasks add little). Here: the mean gain of the
  single-task recipes on XNLI, near zero (within ±MARGIN: a large loss contradicts it too).
- multitask: multi-task intermediate training gives small additional gains over the best
  single task. Here: the multi-task recipes' average gain minus the best single-task recipe's
  (> 0).
- mlm, translated: neither +MLM nor machine-translated intermediate data consistently beats
  English intermediate training. Here: the variant's average gain minus its English-only
  recipe's (< MARGIN).

A statistic is a fixed linear combination of (recipe, target) improvements (the best single
task is picked by its point estimate first), so its replicates are the same combination of the
paired replicates and its interval their percentile interval. Rule per statistic: a claimed
gain (> 0) is supported when the interval lies above 0 and contradicted when it lies below 0; a
claimed "little or none" (< MARGIN) is supported when the interval lies below MARGIN and
contradicted when it lies above it; a claimed change "near zero" is supported when the
interval lies within ±MARGIN and contradicted when it lies entirely outside. A finding is
**shown** when every statistic supports it, **not shown** when one contradicts it, else
**inconclusive**; **not assessed** when the grid lacks its recipes or targets, or the run has no
intervals.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xstilts.analysis.bootstrap import LEVEL, percentile_ci
from xstilts.analysis.intervals import AVG, Key

MARGIN = 1.0  # points: "little or no gain" means less than this
GAIN, LITTLE, NEAR = "gain", "little", "near zero"
SHOWN, NOT_SHOWN, INCONCLUSIVE, NOT_ASSESSED = ("shown", "not shown", "inconclusive",
                                                "not assessed")
COLUMNS = ["model", "finding", "claim", "verdict", "estimate", "lo", "hi", "statistics",
           "sentence"]  # estimate, lo, hi: the finding's first statistic
SHORT = {"retrieval": "large gains on retrieval", "qa": "QA gains from SQuAD",
         "xnli": "little gain on XNLI", "multitask": "multi-task's extra gain over the best task",
         "mlm": "+MLM no better", "translated": "translated data no better"}
CLAIMS = {
    "retrieval": "intermediate training brings large gains on the retrieval targets "
                 "(BUCC, Tatoeba), the largest of all targets",
    "qa": "SQuAD intermediate training brings moderate gains on the question-answering "
          "targets",
    "xnli": "XNLI gains little from intermediate training",
    "multitask": "multi-task intermediate training gives small additional gains over the best "
                 "single intermediate task",
    "mlm": "adding multilingual MLM to intermediate training does not consistently beat "
           "English intermediate training",
    "translated": "machine-translated intermediate data does not consistently beat English "
                  "intermediate training",
}


@dataclass(frozen=True)
class Recipe:
    name: str
    tasks: tuple[str, ...]
    mlm: bool = False
    translated: bool = False

    @property
    def single(self) -> bool:
        return len(self.tasks) == 1 and not (self.mlm or self.translated)

    @property
    def multitask(self) -> bool:
        return len(self.tasks) > 1 and not (self.mlm or self.translated)


def recipes_from_config(section: Mapping[str, Mapping]) -> dict[str, Recipe]:
    """The config's recipe section ({name: {tasks, mlm, translated, ...}}) as Recipes."""
    return {str(name): Recipe(str(name), tuple(entry.get("tasks") or ()),
                              bool(entry.get("mlm")), bool(entry.get("translated")))
            for name, entry in section.items()}


@dataclass(frozen=True)
class Statistic:
    label: str
    weights: Mapping[Key, float]
    claim: str  # GAIN (> 0), LITTLE (< MARGIN) or NEAR (within ±MARGIN)


@dataclass(frozen=True)
class Estimate:
    stat: Statistic
    value: float
    lo: float
    hi: float

    @property
    def supports(self) -> bool:
        if self.stat.claim == GAIN:
            return self.lo > 0
        return self.hi < MARGIN and (self.stat.claim == LITTLE or self.lo > -MARGIN)

    @property
    def contradicts(self) -> bool:
        if self.stat.claim == GAIN:
            return self.hi < 0
        return self.lo > MARGIN or (self.stat.claim == NEAR and self.hi < -MARGIN)


def _mean(keys: Sequence[Key]) -> dict[Key, float]:
    out: dict[Key, float] = {}
    for k in keys:
        out[k] = out.get(k, 0.0) + 1.0 / len(keys)
    return out


def _minus(a: Mapping[Key, float], b: Mapping[Key, float]) -> dict[Key, float]:
    out = dict(a)
    for k, w in b.items():
        out[k] = out.get(k, 0.0) - w
    return out


def _cells(model: str, recipes: Sequence[str], targets: Sequence[str]) -> list[Key]:
    """Per recipe the mean over targets, then the mean over recipes (equal recipe weights)."""
    return [(model, r, t) for r in recipes for t in targets]


def statistics(model: str, recipes: Mapping[str, Recipe], present: Sequence[str],
               targets: Sequence[str], formats: Mapping[str, str], point: Mapping[Key, float]
               ) -> dict[str, list[Statistic] | str]:
    """Per finding its statistics, or the reason it cannot be assessed. `present`: the model's
    recipes in the run (baseline excluded); `targets`: the run's targets; `formats`: task ->
    format ("retrieval", "qa", ...) of the targets and the recipes' tasks; `point`: point
    improvements (for picking the best single task)."""
    rec = {n: recipes[n] for n in present if n in recipes}
    single = sorted(n for n, r in rec.items() if r.single)
    retrieval = sorted(t for t in targets if formats.get(t) == "retrieval")
    others = sorted(t for t in targets if formats.get(t) != "retrieval")
    qa_targets = sorted(t for t in targets if formats.get(t) == "qa")
    squad = sorted(n for n in single if formats.get(rec[n].tasks[0]) == "qa")
    out: dict[str, list[Statistic] | str] = {}

    if single and retrieval and others:
        gain = _mean(_cells(model, single, retrieval))
        rest = _mean(_cells(model, single, others))
        out["retrieval"] = [Statistic("retrieval gain", gain, GAIN),
                            Statistic("retrieval gain minus other targets' gain",
                                      _minus(gain, rest), GAIN)]
    else:
        out["retrieval"] = "needs a single-task recipe, a retrieval target and another target"
    if squad and qa_targets:
        out["qa"] = [Statistic(f"QA-target gain of {', '.join(squad)}",
                               _mean(_cells(model, squad, qa_targets)), GAIN)]
    else:
        out["qa"] = "needs a SQuAD (QA-format) single-task recipe and a QA target"
    if single and "xnli" in targets:
        out["xnli"] = [Statistic("XNLI gain", _mean(_cells(model, single, ["xnli"])), NEAR)]
    else:
        out["xnli"] = "needs a single-task recipe and the XNLI target"
    multi = sorted(n for n, r in rec.items() if r.multitask)
    scored = [n for n in single if (model, n, AVG) in point]
    if multi and scored and all((model, n, AVG) in point for n in multi):
        best = max(scored, key=lambda n: (point[(model, n, AVG)], n))
        out["multitask"] = [Statistic(f"average gain of {', '.join(multi)} minus {best}'s "
                                      "(the best single task)",
                                      _minus(_mean(_cells(model, multi, [AVG])),
                                             {(model, best, AVG): 1.0}), GAIN)]
    else:
        out["multitask"] = "needs a multi-task recipe, a single-task recipe and the average"
    for kind in ("mlm", "translated"):
        pairs = []
        for n, r in sorted(rec.items()):
            if getattr(r, kind) and (model, n, AVG) in point:
                base = [m for m, b in rec.items() if b.single and b.tasks == r.tasks
                        and (model, m, AVG) in point]
                if base:
                    pairs.append((n, base[0]))
        if pairs:
            w = _minus(_mean([(model, n, AVG) for n, _ in pairs]),
                       _mean([(model, b, AVG) for _, b in pairs]))
            names = ", ".join(f"{n} - {b}" for n, b in pairs)
            out[kind] = [Statistic(f"average gain difference {names}", w, LITTLE)]
        else:
            out[kind] = (f"needs a {'+MLM' if kind == 'mlm' else 'translated'} recipe and its "
                         "English-only recipe")
    return out


def estimate(stat: Statistic, point: Mapping[Key, float],
             reps: Mapping[Key, np.ndarray] | None, level: float = LEVEL) -> Estimate:
    """The statistic's point value and percentile interval (NaN without replicates)."""
    value = float(sum(w * point[k] for k, w in stat.weights.items()))
    if reps is None or not all(k in reps for k in stat.weights):
        return Estimate(stat, value, math.nan, math.nan)
    r = sum(w * np.asarray(reps[k], dtype="float64") for k, w in stat.weights.items())
    lo, hi = percentile_ci(r, level)
    return Estimate(stat, value, lo, hi)


def verdict(estimates: Sequence[Estimate]) -> str:
    """SHOWN when every statistic supports the claim, NOT_SHOWN when one contradicts it,
    NOT_ASSESSED without intervals, else INCONCLUSIVE."""
    if any(math.isnan(e.lo) for e in estimates):
        return NOT_ASSESSED
    if any(e.contradicts for e in estimates):
        return NOT_SHOWN
    return SHOWN if all(e.supports for e in estimates) else INCONCLUSIVE


def _fmt(e: Estimate) -> str:
    interval = "no interval" if math.isnan(e.lo) else f"[{e.lo:+.1f}, {e.hi:+.1f}]"
    return f"{e.stat.label} {e.value:+.1f} {interval}"


def findings_table(improvement: pd.DataFrame, recipes: Mapping[str, Recipe],
                   formats: Mapping[str, str], reps: Mapping[Key, np.ndarray] | None,
                   level: float = LEVEL) -> pd.DataFrame:
    """One row per (model, finding): the claim, the verdict and a sentence with the numbers.

    `improvement`: `scores.improvement_long` (model, recipe, target, delta); `formats`:
    task name -> format for the targets and the recipes' tasks; `reps`: improvement replicates
    (`intervals.improvement_replicates`), or None (every finding then "not assessed")."""
    rows = []
    pct = f"{100 * level:.0f}%"
    for model, grp in improvement.groupby("model", sort=True):
        point = {(str(model), str(r), str(t)): float(d) for r, t, d in
                 zip(grp["recipe"], grp["target"], grp["delta"], strict=True)
                 if not math.isnan(d)}
        targets = sorted(t for t in set(grp["target"]) if not t.startswith(AVG))
        present = sorted(set(grp["recipe"]))
        found = statistics(str(model), recipes, present, targets, formats, point)
        for finding, stats_ in found.items():
            claim = CLAIMS[finding]
            if isinstance(stats_, str):
                rows.append([model, finding, claim, NOT_ASSESSED, math.nan, math.nan, math.nan,
                             "", f"Paper: {claim}. Not assessed: the grid {stats_}."])
                continue
            ests = [estimate(s, point, reps, level) for s in stats_]
            v = verdict(ests)
            numbers = "; ".join(_fmt(e) for e in ests)
            rule = ("" if v != NOT_ASSESSED else " (no intervals: the run has no predictions "
                    "and labels to resample)")
            rows.append([model, finding, claim, v, ests[0].value, ests[0].lo, ests[0].hi,
                         numbers,
                         f"Paper: {claim}. `{model}`: **{v}**{rule}: {numbers} "
                         f"(points, {pct} paired bootstrap interval)."])
    return pd.DataFrame(rows, columns=COLUMNS)


def findings_markdown(table: pd.DataFrame) -> str:
    """The sentences as a list, with the rule they follow."""
    lines = [f"- {s}" for s in table["sentence"]]
    return ("\n".join(lines) + "\n\nVerdicts follow the rule in `xstilts.analysis.findings`: "
            "a claimed gain is shown when its interval lies above 0 (not shown: below 0); a "
            f"claimed 'little' gain when it lies below {MARGIN:g} point (not shown: above); a "
            f"claimed change 'near zero' when it lies within ±{MARGIN:g} point (not shown: "
            "entirely outside); "
            "otherwise inconclusive. The intervals resample the test examples of the run's "
            "checkpoints: they do not include the variation between seeds (the improvement "
            "table's {lo, hi} intervals do, with 3 or more seeds).\n")


def findings_summary(table: pd.DataFrame) -> str:
    """One paragraph: per model, which findings it shows, does not show, leaves open (with the
    first statistic and its interval), and which the grid cannot assess."""
    parts = []
    for model, grp in table.groupby("model", sort=True):
        said = []
        for v in (SHOWN, NOT_SHOWN, INCONCLUSIVE, NOT_ASSESSED):
            rows = grp[grp["verdict"] == v]
            if rows.empty:
                continue
            names = [SHORT.get(r.finding, r.finding) + ("" if v == NOT_ASSESSED else
                     f" ({r.estimate:+.1f} [{r.lo:+.1f}, {r.hi:+.1f}])")
                     for r in rows.itertuples()]
            said.append(f"{v}: {', '.join(names)}")
        parts.append(f"Of the paper's {len(grp)} findings, `{model}` gives {'; '.join(said)}.")
    return " ".join(parts) + "\n" if parts else "(no improvement over the baseline to judge)\n"
