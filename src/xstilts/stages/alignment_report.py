"""Stage `alignment-report`: the alignment tables and figures from the alignment JSONs.

spec (`specs.AlignmentReportSpec`) = {
  "files": [alignment JSON files], "tables": tables folder, "figures": figures folder,
  "scores": tidy.csv (xstilts.analysis.scores) or null (no change-vs-gain tables),
  "baseline": "none", "metric": "acc_centered", "layer": "retrieval" | "mean" | an index
}

Writes what `xstilts.studies.alignment.report.make_report` writes.
"""

from __future__ import annotations

import logging

from xstilts.stages.specs import DEFAULT_JOB, AlignmentReportSpec, Job
from xstilts.studies.alignment.report import make_report

log = logging.getLogger("xstilts")


def run(spec: AlignmentReportSpec | dict, job: Job = DEFAULT_JOB) -> None:
    spec = AlignmentReportSpec.parse(spec)
    for path in make_report(spec.files, spec.tables, spec.figures, spec.scores, spec.baseline,
                            spec.metric, spec.layer):
        log.info("wrote %s", path)
