"""Biaffine NER (Yu, Bohnet and Poesio 2020): to be written (issue 5)."""

from __future__ import annotations

from torch import nn


def build(config, tags: list[str], source: nn.Module, encoder) -> nn.Module:
    """The model, from the shared encoder source (``registry.build_tagger`` calls this)."""
    raise NotImplementedError("biaffine is not implemented yet")
