"""The job's device and inference precision (no Snakemake, no config: plain torch).

- `resolve_device`: None/"auto" = the first CUDA device if there is one, else the CPU; an
  explicit accelerator that is absent is an error.
- `resolve_precision`: "auto" = bf16 autocast on a CUDA device that supports it (fp16 on older
  GPUs), fp32 on the CPU.
- `autocast`: `torch.autocast` for a reduced precision; a no-op for fp32.
- `enable_tf32`: TF32 matmuls and convolutions on Ampere or newer GPUs (fp32 code paths, e.g.
  what autocast leaves in fp32, run on tensor cores).
"""

from __future__ import annotations

import contextlib
from typing import Literal

import torch

Precision = Literal["fp32", "bf16", "fp16"]
PRECISIONS: tuple[str, ...] = ("fp32", "bf16", "fp16")


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """The job's device: `None`/"auto" = the first CUDA device if there is one, else the CPU.

    An explicit accelerator that is not available is an error (one line), not a silent CPU run.
    """
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device '{device}': CUDA is not available on this machine")
    return dev


def resolve_precision(device: torch.device, precision: str | None = None) -> Precision:
    """Inference precision: "auto" = bf16 autocast on a CUDA device that supports it (fp16
    otherwise), fp32 on the CPU; "fp32" | "bf16" | "fp16" force one (bf16 also runs on CPU)."""
    precision = precision or "auto"
    if precision not in PRECISIONS + ("auto",):
        raise ValueError(f"precision must be one of {PRECISIONS + ('auto',)}, got '{precision}'")
    if precision != "auto":
        return precision  # type: ignore[return-value]
    if device.type != "cuda":
        return "fp32"
    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """`torch.autocast` for a reduced precision on `device`; a no-op for fp32."""
    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


def enable_tf32() -> bool:
    """TF32 for fp32 matmuls/convolutions when the current CUDA device is Ampere (sm_80) or
    newer; returns whether it was enabled (never on the CPU)."""
    if not torch.cuda.is_available() or torch.cuda.get_device_capability()[0] < 8:
        return False
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    return True
