"""Where tensors run: the device by name and the precision a run asks for.

Shared by training (:mod:`entity_bert.training.engine`) and serving
(:mod:`entity_bert.serve.recogniser`), so that serving never imports the
training engine.
"""

from __future__ import annotations

import torch
from torch import Tensor


def pick_device(name: str) -> torch.device:
    """``auto``: CUDA when present, else the CPU; any other name as torch reads it."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def to_device(batch: dict[str, Tensor], device: torch.device) -> dict[str, Tensor]:
    return {key: value.to(device) for key, value in batch.items()}


def autocast(device: torch.device, precision: str) -> torch.autocast:
    """bf16 mixed precision (matrix products in bf16, reductions in fp32) when asked, else a no-op."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")
