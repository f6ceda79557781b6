"""`python -m xstilts.studies.robustness`: the robustness tables (and figures)."""

import sys

from xstilts.studies.robustness.report import main

sys.exit(main())
