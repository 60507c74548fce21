"""Checkpoints as safetensors plus JSON: no pickle anywhere.

A checkpoint folder holds ``model.safetensors`` (weights; a frozen encoder's
weights are left out, since they are the pretrained ones, verified by hash at
load time), and for resumable ones ``optimizer.safetensors`` with
``optimizer.json`` (Adam's moments and step counts; its parameter groups) and
``rng.safetensors`` (torch's random state). Folders are written under a
temporary name and swapped in whole.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from entity_bert.core.fileio import atomic_directory
from entity_bert.models.tagger import ENCODER_PREFIX


def model_tensors(model: nn.Module) -> dict[str, torch.Tensor]:
    """The weights worth saving: all, less a frozen encoder's."""
    frozen = getattr(getattr(model, "source", None), "frozen", False)
    return {
        name: tensor.detach().cpu().contiguous()
        for name, tensor in model.state_dict().items()
        if not (frozen and name.startswith(ENCODER_PREFIX))
    }


def load_model(model: nn.Module, folder: Path) -> None:
    """Load ``model.safetensors`` into ``model`` (a frozen encoder keeps its pretrained weights)."""
    tensors = load_file(folder / "model.safetensors")
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    missing = [name for name in missing if not name.startswith(ENCODER_PREFIX)]
    if missing or unexpected:
        raise ValueError(
            f"{folder}: checkpoint does not fit the model (missing {missing}, unexpected {unexpected})"
        )


def save(
    folder: Path, model: nn.Module, optimizer: torch.optim.Optimizer | None = None, state: dict | None = None
) -> None:
    """Write a checkpoint folder atomically; with an optimizer, everything needed to resume."""
    with atomic_directory(folder) as tmp:
        save_file(model_tensors(model), tmp / "model.safetensors")
        if optimizer is not None:
            content = optimizer.state_dict()
            tensors = {
                f"{index}.{key}": value.cpu().contiguous()
                for index, entry in content["state"].items()
                for key, value in entry.items()
            }
            save_file(tensors, tmp / "optimizer.safetensors")
            (tmp / "optimizer.json").write_text(
                json.dumps({"param_groups": content["param_groups"]}, indent=1)
            )
            rng = {"torch": torch.get_rng_state()}
            if torch.cuda.is_available():
                rng.update({f"cuda{i}": s for i, s in enumerate(torch.cuda.get_rng_state_all())})
            save_file(rng, tmp / "rng.safetensors")
        if state is not None:
            (tmp / "state.json").write_text(json.dumps(state, indent=1))


def resume(folder: Path, model: nn.Module, optimizer: torch.optim.Optimizer) -> dict:
    """Restore model, optimizer and random state from ``folder``; return its ``state.json``."""
    load_model(model, folder)
    tensors = load_file(folder / "optimizer.safetensors")
    state: dict[int, dict] = {}
    for name, value in tensors.items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = value
    groups = json.loads((folder / "optimizer.json").read_text())["param_groups"]
    optimizer.load_state_dict({"state": state, "param_groups": groups})
    rng = load_file(folder / "rng.safetensors")
    torch.set_rng_state(rng["torch"])
    if torch.cuda.is_available() and "cuda0" in rng:
        torch.cuda.set_rng_state_all([rng[f"cuda{i}"] for i in range(torch.cuda.device_count())])
    return json.loads((folder / "state.json").read_text())
