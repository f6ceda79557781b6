"""Research studies beside the main grid: robustness, alignment, fairness."""
