"""Stage: gold labels of the synthetic benchmark in the XTREME submission layout."""

from xstilts.stages.evaluate import run_labels as run

__all__ = ["run"]
