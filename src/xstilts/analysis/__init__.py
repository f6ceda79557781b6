"""Results -> tidy scores, tables and figures; XTREME submission files and their scoring."""
