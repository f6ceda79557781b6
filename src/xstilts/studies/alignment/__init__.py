"""Alignment study: cross-lingual alignment per layer, tables and figures.

Stages: `alignment` (`stage.py`: one encoder, per layer, clean and perturbed) and
`alignment-report` (`report.py`). Rules and config: workflow/rules/studies/alignment.smk,
`config.schema.yaml` (the `alignment:` key).
"""

from __future__ import annotations

from xstilts.stages.registry import Stage
from xstilts.studies.alignment.specs import AlignmentReportSpec, AlignmentSpec

STAGES = (Stage(AlignmentSpec, "xstilts.studies.alignment.stage"),
          Stage(AlignmentReportSpec, "xstilts.studies.alignment.report"))
