"""Stage: phase (iii) — fine-tune on a target's English training data, early-stopping on dev,
then (fused) zero-shot evaluation of the new checkpoint.

`spec.evaluate` (optional) lists `xstilts.stages.evaluate` specs of the targets scored with
this checkpoint (its own target; the workflow evaluates targets that share it in jobs of their
own). Their test data and gold are loaded and checked before training, so a withheld split
costs no training; the evaluation runs in the same process, saving a job per checkpoint.
"""

from __future__ import annotations

from xstilts.stages import evaluate
from xstilts.stages.common import log, setup, source_of, task_of, train_stage
from xstilts.stages.specs import DEFAULT_JOB, FinetuneSpec, Job


def run(spec: FinetuneSpec | dict, job: Job = DEFAULT_JOB) -> None:
    spec = FinetuneSpec.parse(spec)
    setup(job.threads)
    from xstilts.data.load import load_split
    from xstilts.engine.training import TrainTask

    source = source_of(spec.benchmark)
    target = task_of(spec, spec.target)
    evaluations = [(sub, evaluate.check(sub)) for sub in spec.evaluations()]
    train_ds = load_split(target, "train", "en", source)
    dev_ds = load_split(target, "validation", "en", source)
    task = TrainTask(name=target.name, spec=target, train=train_ds, dev=dev_ds)
    summary = train_stage(spec, job, [task], eval_task=task)
    log.info("fine-tuned %s: %s", target.name, summary)
    for sub, loaded in evaluations:
        evaluate.run(sub, job, loaded=loaded)
