"""The research questions of issues #5 and #6, answered from a finished run's tables.

    python benchmarks/research_questions.py [--workdir DIR]

Reads results/tables (tidy.csv, xtreme.csv, robustness/, alignment/) and results/fairness/ of a
finished default run and prints one table per question. Nothing is recomputed from models.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

TRAINED_TARGETS_EXCLUDED = ("bucc2018", "tatoeba")  # retrieval: no fine-tuning
LOW_RESOURCE = ("vely", "maru", "tamo", "viko")  # mini-XTREME's low-resource languages


def show(title: str, frame: pd.DataFrame, floatfmt: str = ".1f") -> None:
    print(f"\n### {title}\n")
    print(frame.to_markdown(index=False, floatfmt=floatfmt) if len(frame) else "(no rows)")


def xtreme_rows(tables: Path, pairs: list[tuple[str, str]]) -> pd.DataFrame:
    xt = pd.read_csv(tables / "xtreme.csv")
    cols = [c for c in ("avg", "avg_xtreme_r", "tweet_sentiment", "xcopa") if c in xt.columns]
    keep = [xt[(xt["model"] == m) & (xt["recipe"] == r)] for m, r in pairs]
    out = pd.concat(keep)[["model", "recipe", *cols]]
    return out.reset_index(drop=True)


def robustness(tables: Path, pairs: list[tuple[str, str]], op: str = "all") -> pd.DataFrame:
    rob = pd.read_csv(tables / "robustness" / "robustness.csv")
    rob = rob[rob["op"] == op]
    rows = []
    for model, recipe in pairs:
        sub = rob[(rob["model"] == model) & (rob["recipe"] == recipe)]
        if sub.empty:
            continue
        row = {"model": model, "recipe": recipe, "clean": sub["clean"].iloc[0]}
        for _, r in sub.sort_values("severity").iterrows():
            row[f"perturbed@{r['severity']:g}"] = r["perturbed"]
            row[f"drop@{r['severity']:g}"] = r["drop"]
        rows.append(row)
    return pd.DataFrame(rows)


def drops_by_op(tables: Path, model: str, recipes: list[str], severity: float) -> pd.DataFrame:
    rob = pd.read_csv(tables / "robustness" / "robustness.csv")
    sub = rob[(rob["model"] == model) & (rob["severity"] == severity)
              & rob["recipe"].isin(recipes)]
    return sub.pivot_table(index="op", columns="recipe", values="drop").reset_index()


def alignment(tables: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    folder = tables / "alignment"
    change = pd.read_csv(folder / "alignment_change.csv")
    corr = pd.read_csv(folder / "alignment_vs_gain_correlation.csv")
    stab_path = folder / "alignment_stability.csv"
    stab = pd.read_csv(stab_path) if stab_path.exists() else pd.DataFrame()
    return change, corr, stab


def per_language_gain(tidy: pd.DataFrame, model: str, recipe: str, base: str) -> pd.DataFrame:
    scores = tidy[(tidy["metric"] == "score") & (tidy["model"] == model)
                  & ~tidy["target"].isin(TRAINED_TARGETS_EXCLUDED)]
    mean = scores.groupby(["recipe", "language"])["value"].mean().unstack(0)
    if recipe not in mean or base not in mean:
        return pd.DataFrame()
    out = pd.DataFrame({"language": mean.index, recipe: mean[recipe].to_numpy(),
                        base: mean[base].to_numpy()})
    out["gain"] = out[recipe] - out[base]
    out["low_resource"] = out["language"].isin(LOW_RESOURCE)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=Path("."))
    args = parser.parse_args()
    results = args.workdir / "results"
    tables = results / "tables"
    tidy = pd.read_csv(tables / "tidy.csv")

    print("## Issue #5: robustness")
    adv = [("tiny", "anli_plus"), ("tiny", "anli_plus_freelb"), ("tiny", "squad_v2"),
           ("tiny", "squad_v2_fgm"), ("tiny_bert", "anli_plus"), ("tiny_bert", "anli_plus_freelb")]
    show("Q1 adversarial vs clean intermediate training: XTREME / XTREME-R averages",
         xtreme_rows(tables, adv))
    show("Q1 ... and under perturbation (mean over ops; non-English; robustness targets)",
         robustness(tables, adv))
    reasoning = [(m, r) for m in ("tiny", "tiny_bert")
                 for r in ("none", "anli_plus", "commonsenseqa")]
    show("Q2 English reasoning tasks and robustness (mean over ops)",
         robustness(tables, reasoning))
    for model in ("tiny_bert", "tiny"):
        show(f"Q2 drop per operation at severity 0.3, {model}",
             drops_by_op(tables, model, ["none", "anli_plus", "commonsenseqa"], 0.3))
    change, corr, stab = alignment(tables)
    metrics = [c for c in ("acc", "acc_centered", "cka", "cosine") if c in change.columns]
    show("Q3 alignment change from the base model (recipe - none), mean over languages",
         change.groupby(["model", "recipe"])[metrics].mean().reset_index(), ".3f")
    show("Q3 alignment change vs transfer gain per language", corr, ".2f")
    if len(stab):
        keys = ["model", "recipe", "metric", "condition"]
        mean = stab.groupby(keys)[["clean", "perturbed", "delta"]].mean().reset_index()
        show("Q3 alignment stability (perturbed vs clean)",
             mean[mean["metric"] == "acc_centered"], ".2f")

    print("\n## Issue #6: beyond English and beyond XTREME")
    fair = results / "fairness"
    summary = pd.read_csv(fair / "fairness_summary.csv")
    cols = ["model", "recipe", "mean", "worst_family", "worst_family_score",
            "worst_language", "best_worst_gap", "sd", "gini", "english_gap", "speaker_weighted"]
    avg = summary[summary["target"] == "avg"] if "target" in summary else summary
    show("Q1 fairness summary (all targets averaged)",
         avg[[c for c in cols if c in avg.columns]], ".3g")
    improvement = fair / "family_improvement.csv"
    if improvement.exists():
        imp = pd.read_csv(improvement)
        show("Q1 improvement over none by family (all targets averaged)",
             imp[imp["target"] == "avg"] if "target" in imp else imp)
    show("Q2 multilingual low-resource intermediate data vs English-only",
         xtreme_rows(tables, [("tiny", "none"), ("tiny", "anli_plus"), ("tiny", "lowres_en"),
                              ("tiny", "lowres_multi")]))
    gains = per_language_gain(tidy, "tiny", "lowres_multi", "lowres_en")
    if len(gains):
        show("Q2 lowres_multi - lowres_en per language (trained targets)", gains)
    models = [(m, r) for r in ("none", "anli_plus", "anli_plus_freelb", "commonsenseqa")
              for m in ("tiny", "tiny_bert")]
    show("Q3 two base models under the same grid", xtreme_rows(tables, models))
    senti = tidy[(tidy["target"] == "tweet_sentiment") & (tidy["metric"] == "score")
                 & (tidy["recipe"] == "none")]
    if len(senti):
        senti = senti.assign(english=senti["language"] == "en")
        show("Q3 sentiment (recipe none): English vs mean of the other languages",
             senti.groupby(["model", "english"])["value"].mean().unstack().reset_index())


if __name__ == "__main__":
    main()
