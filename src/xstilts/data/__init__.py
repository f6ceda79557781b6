"""Data layer: canonical schemas, source adapters (hub, xtreme_dir, synthetic)."""
