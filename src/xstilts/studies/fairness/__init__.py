"""Fairness study: scores across languages and families with bootstrap intervals."""
