"""Adversarial training on the word embeddings: FreeLB (Zhu et al. 2020) and one-step FGM
(Miyato et al. 2017), as a `Trainer.training_step` replacement (see `engine.trainer.XTrainer`).

The perturbation `delta` is added to the output of the encoder's word-embedding module by a
forward hook, i.e. the model sees `inputs_embeds = word_embeddings(input_ids) + delta` while
still receiving `input_ids`. That is FreeLB's `inputs_embeds` formulation, and it keeps every
head format working unchanged (multiple choice flattens its 3-D `input_ids` inside the model;
the multi-task model routes by `task_name`) and XLM-R's padding-aware position ids (which a
model given `inputs_embeds` alone cannot compute).

FreeLB (reference: zhuchen03/FreeLB, huggingface-transformers/examples/run_glue_freelb.py):
delta starts uniform in [-1, 1] on real tokens, scaled per example to `init_mag / sqrt(valid
tokens * hidden)` (l2; linf: uniform in [-init_mag, init_mag]); then K ascent steps, each a
forward/backward of loss / K (parameter gradients accumulate over the K steps) followed by
delta += step_size * grad / ||grad|| (per example; linf: the max-norm) and a projection onto
||delta|| <= max_norm when max_norm > 0 (linf: clamping). Two deliberate differences: the
update is masked like the initialisation (pad positions are never perturbed; in QA their
logits enter the loss), and dropout masks are drawn anew at every ascent step (the reference
reuses them through a patched transformers). FGM: a clean forward/backward, then
delta = epsilon * g / ||g|| (per example) and a second forward/backward; the gradients of both
losses are applied, and the clean loss is reported.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import asdict, dataclass
from typing import Any

METHODS = ("freelb", "fgm")
NORMS = ("l2", "linf")
CONFIG_KEYS = ("method", "steps", "step_size", "init_mag", "max_norm", "norm", "epsilon")


@dataclass(frozen=True)
class AdversarialConfig:
    """A recipe's `adversarial` entry (`epsilon` is FGM's step; FreeLB uses the others)."""

    method: str
    steps: int = 2
    step_size: float = 0.05
    init_mag: float = 0.08
    max_norm: float = 0.0
    norm: str = "l2"
    epsilon: float = 1.0

    @classmethod
    def parse(cls, raw: dict | None, where: str = "adversarial") -> AdversarialConfig | None:
        """Validated config from a recipe entry (None when absent); errors name the key."""
        if raw is None:
            return None
        if isinstance(raw, AdversarialConfig):
            return raw
        if not isinstance(raw, dict):
            raise ValueError(f"{where}: expected a mapping, got {type(raw).__name__}")
        unknown = sorted(set(raw) - set(CONFIG_KEYS))
        if unknown:
            raise ValueError(f"{where}: unknown keys {unknown}; known {list(CONFIG_KEYS)}")
        if raw.get("method") not in METHODS:
            raise ValueError(f"{where}.method: expected one of {list(METHODS)}, got "
                             f"{raw.get('method')!r}")
        values: dict[str, Any] = {"method": raw["method"]}
        for key in ("steps", "step_size", "init_mag", "max_norm", "epsilon"):
            if key not in raw:
                continue
            value = raw[key]
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not math.isfinite(value) or value < 0:
                raise ValueError(f"{where}.{key}: expected a non-negative number, got {value!r}")
            if key == "steps" and int(value) != value:
                raise ValueError(f"{where}.steps: expected an integer, got {value!r}")
            values[key] = int(value) if key == "steps" else float(value)
        norm = raw.get("norm", "l2")
        if norm not in NORMS:
            raise ValueError(f"{where}.norm: expected one of {list(NORMS)}, got {norm!r}")
        values["norm"] = norm
        return cls(**values)

    @property
    def active(self) -> bool:
        """False for FreeLB with 0 ascent steps: that is clean training."""
        return self.method == "fgm" or self.steps > 0

    def passes(self) -> int:
        """Forward/backward passes per batch (clean training: 1)."""
        if self.method == "fgm":
            return 2
        return max(1, self.steps)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def word_embeddings(model: Any) -> Any:
    """The input word-embedding module of a head model, a MultiTaskModel or an encoder."""
    from xstilts.engine.modeling import encoder_of

    module = encoder_of(model).get_input_embeddings()
    if module is None:
        raise ValueError(f"{type(model).__name__} has no input word embeddings to perturb")
    return module


class _Perturbation:
    """Adds `delta` (when set) to the word-embedding output of every forward."""

    def __init__(self) -> None:
        self.delta: Any = None
        self.calls = 0

    def __call__(self, module: Any, args: Any, output: Any) -> Any:
        self.calls += 1
        if self.delta is None:
            return output
        if self.delta.shape != output.shape:
            raise RuntimeError(f"adversarial delta of shape {tuple(self.delta.shape)} does not "
                               f"match the word embeddings {tuple(output.shape)}")
        return output + self.delta


@contextlib.contextmanager
def _perturbing(module: Any):
    hook = _Perturbation()
    handle = module.register_forward_hook(hook)
    try:
        yield hook
    finally:
        handle.remove()  # restores the clean model whatever happens


def _per_example(x: Any, batch: int) -> Any:
    return x.reshape(batch, -1)


def _norm(x: Any, batch: int, kind: str) -> Any:
    """Per-example norm of `x` (first dim of the flattened sequences grouped by example)."""
    flat = _per_example(x, batch).float()
    p = 2 if kind == "l2" else float("inf")
    return flat.norm(p=p, dim=1).clamp_min(1e-8).to(x.dtype)


def _bcast(values: Any, like: Any, batch: int) -> Any:
    """Per-example values broadcast over `like` ((batch * choices, length, hidden))."""
    per_seq = like.shape[0] // batch
    return values.repeat_interleave(per_seq).view(-1, 1, 1)


def init_delta(mask: Any, hidden: int, batch: int, cfg: AdversarialConfig, dtype: Any) -> Any:
    """FreeLB's random start on real tokens (`mask`: (sequences, length) 0/1)."""
    import torch

    m = mask.to(dtype).unsqueeze(2)
    shape = (*mask.shape, hidden)
    if cfg.init_mag <= 0:
        return torch.zeros(shape, dtype=dtype, device=mask.device)
    if cfg.norm == "linf":
        return torch.zeros(shape, dtype=dtype, device=mask.device).uniform_(
            -cfg.init_mag, cfg.init_mag) * m
    delta = torch.zeros(shape, dtype=dtype, device=mask.device).uniform_(-1, 1) * m
    dims = _per_example(mask, batch).sum(1).to(dtype).clamp_min(1) * hidden
    return delta * _bcast(cfg.init_mag / dims.sqrt(), delta, batch)


def ascend(delta: Any, grad: Any, mask: Any, batch: int, cfg: AdversarialConfig) -> Any:
    """One FreeLB ascent step on `delta` from its gradient, then the projection."""
    import torch

    grad = grad * mask.to(grad.dtype).unsqueeze(2)
    delta = delta + cfg.step_size * grad / _bcast(_norm(grad, batch, cfg.norm), grad, batch)
    if cfg.max_norm > 0:
        if cfg.norm == "linf":
            delta = torch.clamp(delta, -cfg.max_norm, cfg.max_norm)
        else:
            norms = _norm(delta, batch, "l2")
            scale = torch.where(norms > cfg.max_norm, cfg.max_norm / norms,
                                torch.ones_like(norms))
            delta = delta * _bcast(scale, delta, batch)
    return delta.detach()


def _loss(trainer: Any, model: Any, inputs: dict, num_items_in_batch: Any) -> Any:
    """`trainer.compute_loss` (keeps the NaN guard), reduced and scaled like
    `Trainer.training_step` does for gradient accumulation."""
    with trainer.compute_loss_context_manager():
        loss = trainer.compute_loss(model, dict(inputs), num_items_in_batch=num_items_in_batch)
    if trainer.args.n_gpu > 1:
        loss = loss.mean()
    scaled = trainer.loss_is_scaled_for_ga
    if scaled is None:
        scaled = (trainer.model_accepts_loss_kwargs and num_items_in_batch is not None) \
            or trainer.compute_loss_func is not None
    return loss if scaled else loss / trainer.current_gradient_accumulation_steps


def training_step(trainer: Any, model: Any, inputs: dict, num_items_in_batch: Any,
                  cfg: AdversarialConfig) -> Any:
    """One adversarial training step of an HF `Trainer` (gradients accumulated in the model's
    parameters, as `Trainer.training_step`); returns the detached step loss."""
    import torch

    model.train()
    if hasattr(trainer.optimizer, "train") and callable(trainer.optimizer.train):
        trainer.optimizer.train()
    inputs = trainer._prepare_inputs(inputs)
    if "input_ids" not in inputs:
        raise ValueError("adversarial training needs input_ids in the batch")
    ids = inputs["input_ids"]
    batch, length = ids.shape[0], ids.shape[-1]
    mask = inputs.get("attention_mask")
    mask = torch.ones_like(ids) if mask is None else mask
    mask = mask.reshape(-1, length)
    module = word_embeddings(trainer.accelerator.unwrap_model(model))
    hidden = module.embedding_dim
    dtype = module.weight.dtype

    def backward(loss: Any) -> None:
        if not hook.calls:
            raise RuntimeError(f"adversarial training: {type(module).__name__} (the input "
                               f"word embeddings) was not called by the model's forward")
        trainer.accelerator.backward(loss)

    with _perturbing(module) as hook:
        if cfg.method == "freelb":
            delta = init_delta(mask, hidden, batch, cfg, dtype)
            total = None
            for step in range(cfg.steps):
                delta.requires_grad_()
                hook.delta = delta
                loss = _loss(trainer, model, inputs, num_items_in_batch) / cfg.steps
                backward(loss)
                total = loss.detach() if total is None else total + loss.detach()
                if step == cfg.steps - 1:
                    break
                delta = ascend(delta.detach(), delta.grad.detach(), mask, batch, cfg)
            return total
        # FGM: the clean gradient gives the direction, then one adversarial pass.
        delta = torch.zeros((*mask.shape, hidden), dtype=dtype, device=mask.device,
                            requires_grad=True)
        hook.delta = delta
        clean = _loss(trainer, model, inputs, num_items_in_batch)
        backward(clean)
        grad = delta.grad.detach() * mask.to(dtype).unsqueeze(2)
        hook.delta = (cfg.epsilon * grad / _bcast(_norm(grad, batch, cfg.norm), grad,
                                                  batch)).detach()
        backward(_loss(trainer, model, inputs, num_items_in_batch))
        return clean.detach()
