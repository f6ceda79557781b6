"""Task facts: the registry (`registry.py`) of the tasks declared in `tasks.yaml`."""
