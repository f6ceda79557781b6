"""Files and records: atomic writes, result JSON reading, errors, provenance, shipped models."""
