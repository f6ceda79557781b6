"""Rendering helpers for result tables: number formatting, Markdown, LaTeX, atomic writes.

Display frames hold strings only (already formatted), so every output is deterministic.
The placeholder `PM` marks a "mean +- sd" separator; it becomes "±" in Markdown and
"$\\pm$" in LaTeX.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from xstilts.io.jsonio import check_renamed_fields

PM = "\x00pm\x00"
MISSING = "n/a"
_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "<": r"\textless{}", ">": r"\textgreater{}",
}


def _missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def fmt_num(x: float | None, digits: int = 2, signed: bool = False) -> str:
    """`x` with a fixed number of decimals ("+" for positives if `signed`); "n/a" if missing."""
    if _missing(x):
        return MISSING
    value = float(x)
    if value == 0:
        value = 0.0  # no "-0.00"
    text = f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"
    if text.lstrip("+-").strip("0.") == "":  # rounds to zero: drop the sign
        text = f"{0.0:.{digits}f}"
    return text


def fmt_mean_sd(mean: float | None, sd: float | None, digits: int = 2) -> str:
    """"mean PM sd", or just "mean" when sd is missing (a single seed)."""
    if _missing(mean):
        return MISSING
    if _missing(sd):
        return fmt_num(mean, digits)
    return f"{fmt_num(mean, digits)}{PM}{fmt_num(sd, digits)}"


def fmt_pvalue(p: float | None) -> str:
    """p-value with 3 decimals ("<0.001" below that)."""
    if _missing(p):
        return MISSING
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def latex_escape(text: str) -> str:
    """Escape LaTeX special characters in plain text."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def _latex_text(text: str) -> str:
    return latex_escape(text).replace("±", r"$\pm$").replace("†", r"\textdagger{}")


def to_markdown(display: pd.DataFrame, numeric: Sequence[str] = ()) -> str:
    """GitHub Markdown table of a string frame; `numeric` columns are right-aligned."""
    align = ["right" if col in set(numeric) else "left" for col in display.columns]
    frame = display.map(lambda s: str(s).replace(PM, " ± "))
    text = frame.to_markdown(index=False, colalign=align, disable_numparse=True)
    return text + "\n"


def to_latex(display: pd.DataFrame, numeric: Sequence[str] = (), caption: str | None = None,
             label: str | None = None) -> str:
    """booktabs LaTeX tabular (in a table env if `caption`/`label`) of a string frame."""
    frame = display.map(lambda s: _latex_text(str(s)).replace(PM, r" $\pm$ "))
    frame.columns = [_latex_text(str(c)) for c in display.columns]
    colfmt = "".join("r" if col in set(numeric) else "l" for col in display.columns)
    return frame.to_latex(index=False, escape=False, column_format=colfmt,
                          caption=_latex_text(caption) if caption else None, label=label)


TEXT_COLUMNS = ("model", "recipe", "target", "language", "metric", "op", "condition")


def read_tidy(path: str | Path) -> pd.DataFrame:
    """A tidy table as written by this package (scores tidy.csv, robustness_tidy.csv, ...):
    the name columns (`TEXT_COLUMNS`) read as text, only empty cells as missing; a table of an
    older xstilts (a renamed column, `RENAMED_FIELDS`) raises DataError naming it."""
    frame = pd.read_csv(path, dtype=dict.fromkeys(TEXT_COLUMNS, str), keep_default_na=False,
                        na_values=[""])
    check_renamed_fields(frame.columns, path, "column")
    return frame
