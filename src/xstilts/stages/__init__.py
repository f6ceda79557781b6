"""One module per workflow stage: `run(spec, job)` with the stage's typed spec (`specs.py`)
and the job's compute settings (`specs.Job`)."""
