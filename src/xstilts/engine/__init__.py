"""The transfer engine: tokenizer and tiny-model initialisation, featurization, heads,
training, prediction, samplers and retrieval.

Training is `training.train` (the entry: data, model, arguments, resume, output) on
`trainer.XTrainer` (HF Trainer + callbacks), with `collate` (per-format collators),
`multitask` (multi-task rows and batch sampler) and `stops` (time budget, NaN, kill hook: the
light error types). Import what you need directly, e.g.
`from xstilts.engine.training import TrainTask, train` or
`from xstilts.engine.predict import Predictor`.
"""
