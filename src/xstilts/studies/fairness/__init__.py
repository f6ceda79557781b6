"""Fairness study: scores across languages and families with bootstrap intervals.

Stage: `fairness-report` (`report.py`). Rules and config: workflow/rules/studies/fairness.smk,
`config.schema.yaml` (the `fairness:` key).
"""

from __future__ import annotations

from xstilts.stages.registry import Stage
from xstilts.studies.fairness.specs import FairnessReportSpec

STAGES = (Stage(FairnessReportSpec, "xstilts.studies.fairness.report"),)
