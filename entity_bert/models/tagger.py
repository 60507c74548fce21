"""A neural tagger: input source -> sequence body -> emissions -> softmax or CRF.

Every neural model of the study is one :class:`Tagger`, built from shared
pieces (:mod:`entity_bert.models.registry` says which):

    x_i = source(sentence)_i        encoder word states, or scratch embeddings
    u_i = body(x, mask)_i           identity, (Bi)LSTM, Transformer, or Entity-BERT's body
    emissions_i = W dropout(u_i) + b
    softmax head: p(y_i | x) = softmax(emissions_i), loss = cross-entropy,
                  prediction: argmax per word (may be invalid IOB2), or the most
                  probable valid IOB2 sequence (Viterbi, :mod:`.decoding`)
    CRF head:     loss = CRF negative log-likelihood, prediction = constrained Viterbi

``decode`` is what training validates with (a softmax head's argmax: model
selection does not depend on the decoding); ``decodings`` gives every
decoding of :data:`entity_bert.data.iob2.DECODINGS`, which evaluation scores.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from entity_bert.data.iob2 import DECODINGS
from entity_bert.models.batching import IGNORE
from entity_bert.models.crf import CRF
from entity_bert.models.decoding import argmax_tags, best_tags
from entity_bert.models.encoder import WordEncoder

ENCODER_PREFIX = "source.word_encoder."  # parameter names of the pretrained encoder inside a Tagger


class EncoderSource(nn.Module):
    """Encoder word states: computed from word-piece windows, or read from a cache.

    ``trainable_layers``: how many of the encoder's top layers train (None:
    all of them, the ``finetune`` regime; 0: none, ``frozen``, whose word
    features the engine may cache). With some, the ``top`` regime, the
    embeddings and the layers below are fixed and the engine may cache their
    piece states (``lower_states`` in the batch): only the top layers run
    while training.
    """

    def __init__(self, word_encoder: WordEncoder, trainable_layers: int | None = None) -> None:
        super().__init__()
        self.word_encoder = word_encoder
        self.output_size = word_encoder.output_size
        self.frozen = trainable_layers == 0
        self.fixed_layers = 0  # the top regime's: embeddings and these bottom layers are fixed
        if self.frozen:
            word_encoder.requires_grad_(False)
        elif trainable_layers is not None:
            layers = word_encoder.layers  # a BERT encoder's
            if not 0 < trainable_layers <= layers:
                raise ValueError(f"trainable_layers must be within 1..{layers}, not {trainable_layers}")
            self.fixed_layers = layers - trainable_layers
            word_encoder.encoder.embeddings.requires_grad_(False)
            for layer in word_encoder.encoder.encoder.layer[: self.fixed_layers]:
                layer.requires_grad_(False)

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        if "features" in batch:
            return batch["features"]
        if "lower_states" in batch:
            return self.word_encoder.upper(
                batch["lower_states"], batch["attention_mask"], batch["word_index"], self.fixed_layers
            )
        return self.word_encoder(batch["input_ids"], batch["attention_mask"], batch["word_index"])

    def train(self, mode: bool = True) -> EncoderSource:
        super().train(mode)
        if self.frozen:  # a frozen encoder never runs with dropout
            self.word_encoder.eval()
        elif self.fixed_layers:  # nor do fixed layers (nor did their cached states)
            self.word_encoder.encoder.embeddings.eval()
            for layer in self.word_encoder.encoder.encoder.layer[: self.fixed_layers]:
                layer.eval()
        return self


class Identity(nn.Module):
    """No body: the classifier reads the source directly (the BERT and BERT-CRF rows)."""

    def __init__(self, input_size: int) -> None:
        super().__init__()
        self.output_size = input_size

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        return x


class NERModel(nn.Module):
    """What the engine, evaluation and serving call on every neural model of the study.

    ``source`` (its input module), ``loss(batch)`` and ``decode(batch)`` (IOB2
    tag indexes per word); and two hooks that a model overrides when it needs
    them, so that shared code never asks which model it holds.
    """

    source: nn.Module

    def loss(self, batch: dict[str, Tensor]) -> Tensor:
        raise NotImplementedError

    def decode(self, batch: dict[str, Tensor]) -> list[list[int]]:
        raise NotImplementedError

    def decodings(self, batch: dict[str, Tensor]) -> dict[str, list[list[int]]]:
        """Tag indexes under each decoding (``constrained``, ``argmax``).

        This default serves models whose ``decode`` is valid IOB2 by
        construction (a CRF head, span models): both decodings are the same.
        """
        rows = self.decode(batch)
        return {"constrained": rows, "argmax": rows}

    def fit_support(self, examples: list, batch_size: int, device: torch.device) -> None:
        """Re-read the training data before decoding (models that label by it, as CONTaiNER); else nothing."""

    def memoise(self, enabled: bool) -> None:
        """Keep what does not change while training (MRC: a frozen encoder's states); else nothing."""


class Tagger(NERModel):
    """source -> body -> linear emissions -> softmax or CRF."""

    def __init__(
        self, source: nn.Module, body: nn.Module, tags: list[str], head: str, dropout: float
    ) -> None:
        super().__init__()
        if head not in ("softmax", "crf"):
            raise ValueError(f"head must be 'softmax' or 'crf', not {head!r}")
        self.source, self.body = source, body
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(body.output_size, len(tags))
        self.tags = list(tags)
        self.crf = CRF(tags) if head == "crf" else None

    def emissions(self, batch: dict[str, Tensor]) -> Tensor:
        x = self.source(batch)
        return self.classifier(self.dropout(self.body(x, batch["mask"]))).float()  # losses in fp32

    def loss(self, batch: dict[str, Tensor]) -> Tensor:
        emissions = self.emissions(batch)
        if self.crf is not None:
            return self.crf.nll(emissions, batch["labels"].clamp(min=0), batch["mask"])
        return F.cross_entropy(emissions.flatten(0, 1), batch["labels"].flatten(), ignore_index=IGNORE)

    def decode(self, batch: dict[str, Tensor]) -> list[list[int]]:
        emissions = self.emissions(batch)
        if self.crf is not None:
            return self.crf.decode(emissions, batch["mask"])
        return argmax_tags(emissions, batch["mask"])

    def decodings(self, batch: dict[str, Tensor]) -> dict[str, list[list[int]]]:
        if self.crf is not None:
            return super().decodings(batch)
        log_probs = self.emissions(batch).log_softmax(dim=-1)
        return {name: best_tags(log_probs, batch["mask"], self.tags, name) for name in DECODINGS}
