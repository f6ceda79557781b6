"""`python -m xstilts.studies.robustness`: the robustness tables (and figures)."""

import sys

from xstilts.studies.robustness.tables import main

sys.exit(main())
