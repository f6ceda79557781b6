"""`python -m xstilts.studies.alignment`: the alignment tables and figures."""

import sys

from xstilts.studies.alignment.report import main

sys.exit(main())
