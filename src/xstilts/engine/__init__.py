"""The transfer engine: tokenizer and tiny-model initialisation, featurization, heads,
Trainer-based training, prediction, samplers and retrieval.

Submodules import torch/transformers lazily where they can; import what you need directly,
e.g. `from xstilts.engine.training import TrainTask, train` or
`from xstilts.engine.predict import Predictor`.
"""
