"""MRC-NER (Li et al. 2019): to be written (issue 5)."""

from __future__ import annotations

from torch import nn


def build(config, tags: list[str], source: nn.Module, encoder) -> nn.Module:
    """The model, from the shared encoder source (``registry.build_tagger`` calls this)."""
    raise NotImplementedError("mrc is not implemented yet")
