"""Robustness study: scores on perturbed test sets, tables and severity figures.

Stages: `robustness` (`stage.py`: one fine-tuned checkpoint on every perturbed set of its
target, written by the core `perturb` stage) and `robustness-report` (`report.py`). Rules and
config: workflow/rules/studies/robustness.smk, `config.schema.yaml` (the `robustness:` key).
"""

from __future__ import annotations

from xstilts.stages.registry import Stage
from xstilts.studies.robustness.specs import RobustnessReportSpec, RobustnessSpec

STAGES = (Stage(RobustnessSpec, "xstilts.studies.robustness.stage"),
          Stage(RobustnessReportSpec, "xstilts.studies.robustness.report"))
