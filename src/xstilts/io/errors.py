"""`DataError`, importable without the `datasets` library (e.g. at workflow parse time)."""

from __future__ import annotations


class DataError(ValueError):
    """Bad input data; the message names the file and the row or column."""
