"""Robustness study: scores on perturbed test sets, tables and severity figures."""
