"""`python -m xstilts.studies.alignment`: the alignment tables and figures."""

import sys

from xstilts.studies.alignment.figures import main

sys.exit(main())
