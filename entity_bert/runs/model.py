"""A run's model assembled from its configuration, and a finished run read back from its checkpoint.

The training engine (:class:`entity_bert.training.engine.Run`) builds on
:class:`RunModel`; export and the study's notebooks only need the model, so
they read a finished run with :func:`load_trained` and never import the engine.
"""

from __future__ import annotations

import torch

from entity_bert.core.device import pick_device, pick_precision
from entity_bert.data.corpus import Sentence
from entity_bert.models.batching import Example, Vocabulary
from entity_bert.models.encoder import load_tokenizer
from entity_bert.models.registry import build_tagger, input_kind
from entity_bert.runs import checkpoint
from entity_bert.runs.config import RunConfig
from entity_bert.runs.data import build_examples, label_tags, load_split


class RunModel:
    """A run's model, assembled from its configuration: tags, input kind, vocabulary, tokenizer, device."""

    def __init__(self, config: RunConfig) -> None:
        self.config = config
        self.device = pick_device(config.device)
        self.precision = pick_precision(config.precision, self.device)  # what `auto` means on this machine
        self.tags = label_tags(config)
        self.kind = input_kind(config.model.name)
        self.vocabulary = None
        if self.kind == "words":
            path = config.checkpoint_dir / "vocabulary.json"
            self.vocabulary = (
                Vocabulary.load(path) if path.exists() else Vocabulary.build(load_split(config, "train"))
            )
        torch.manual_seed(config.seed)
        self.model = build_tagger(config.model, self.tags, config.regime, config.encoder, self.vocabulary)
        self.model.to(self.device)
        self.tokenizer = load_tokenizer(config.encoder) if self.kind == "encoder" else None

    def examples_for(self, sentences: list[Sentence]) -> list[Example]:
        """Examples in the model's deployable input (encoder windows, or words)."""
        config = self.config
        return build_examples(
            sentences, self.tags, self.kind, config.encoder, self.vocabulary, self.tokenizer
        )



def load_trained(config: RunConfig) -> RunModel:
    """A finished run's best checkpoint, ready to predict."""
    run = RunModel(config)
    checkpoint.load_model(run.model, config.checkpoint_dir / "best")
    return run
