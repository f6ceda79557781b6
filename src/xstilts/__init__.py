"""xstilts: X-STILTs (Phang et al., 2020) as a reproducible grid."""

__version__ = "0.1.0"
