"""Alignment study: cross-lingual alignment per layer, tables and figures."""
