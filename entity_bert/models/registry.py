"""The study's models by name, their hyperparameters, and how each is assembled.

| name            | input                      | body                 | head    | paper row        |
|-----------------|----------------------------|----------------------|---------|------------------|
| entity-bert     | encoder                    | Entity-BERT body     | softmax | Entity-BERT      |
| bert            | encoder                    | none                 | softmax | BERT             |
| bert-crf        | encoder                    | none                 | CRF     | BERT-CRF         |
| lstm-crf        | words (scratch)            | LSTM, left to right  | CRF     | LSTM-CRF         |
| bilstm-crf      | words + characters         | BiLSTM               | CRF     | BiLSTM-CRF       |
| transformer-crf | words + characters         | Transformer encoder  | CRF     | Transformer-CRF  |
| crf             | hand-made features         | (sklearn-crfsuite)   | CRF     | CRF              |

Regimes: encoder models are trained ``finetune`` (encoder trained too) or
``frozen`` (encoder fixed, its word features cached); the others are trained
``scratch``. ``head`` overrides a model's head (e.g. Entity-BERT with a CRF).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from ..batching import Vocabulary
from ..encoder import EncoderSpec, WordEncoder, load_encoder
from . import MODEL_NAMES
from .entity_bert import EntityBertBody
from .recurrent import recurrent_layer
from .scratch import ScratchSource, TransformerBody
from .tagger import EncoderSource, Identity, Tagger

ENCODER_MODELS = {"entity-bert": "softmax", "bert": "softmax", "bert-crf": "crf"}
SCRATCH_MODELS = {"lstm-crf": "crf", "bilstm-crf": "crf", "transformer-crf": "crf"}
MODELS = [*ENCODER_MODELS, *SCRATCH_MODELS, "crf"]
assert tuple(MODELS) == MODEL_NAMES


@dataclass
class ModelConfig:
    """Hyperparameters of every model (each reads the ones it needs)."""

    name: str = "entity-bert"
    head: str | None = None  # softmax | crf; default: the model's own
    hidden: int = 128  # recurrent units per direction (the paper's best: 128)
    cell: str = "lstm"  # recurrent layer of Entity-BERT and BiLSTM-CRF: lstm, gru, sru, indrnn, gfrnn
    dropout: float = 0.1
    word_dim: int = 100
    char_dim: int = 30
    char_filters: int = 50
    transformer_size: int = 128
    transformer_layers: int = 2
    transformer_heads: int = 4
    crf_c1: float = 0.1  # the feature CRF's L1 and L2 penalties
    crf_c2: float = 0.1
    crf_iterations: int = 100


def regimes(name: str) -> list[str]:
    """The training regimes that apply to a model."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r} (known: {', '.join(MODELS)})")
    return ["finetune", "frozen"] if name in ENCODER_MODELS else ["scratch"]


def default_head(name: str) -> str:
    """The head a model has unless told otherwise."""
    return {**ENCODER_MODELS, **SCRATCH_MODELS, "crf": "crf"}[name]


def input_kind(name: str) -> str:
    """``encoder``, ``words`` or ``features`` (the feature CRF)."""
    return "encoder" if name in ENCODER_MODELS else "words" if name in SCRATCH_MODELS else "features"


def build_tagger(
    config: ModelConfig,
    tags: list[str],
    regime: str,
    encoder: EncoderSpec | None = None,
    vocabulary: Vocabulary | None = None,
) -> Tagger:
    """A neural model, freshly initialised from torch's RNG (the pretrained encoder excepted)."""
    if regime not in regimes(config.name) or config.name == "crf":
        raise ValueError(f"model {config.name!r} is not trained in regime {regime!r}")
    if config.name in ENCODER_MODELS:
        source: nn.Module = EncoderSource(
            WordEncoder(load_encoder(encoder or EncoderSpec())), regime == "frozen"
        )
    else:
        use_chars = config.name != "lstm-crf"
        source = ScratchSource(vocabulary, config.word_dim, config.char_dim, config.char_filters, use_chars)
    size = source.output_size
    if config.name == "entity-bert":
        body: nn.Module = EntityBertBody(size, config.hidden, config.cell)
    elif config.name in ("bert", "bert-crf"):
        body = Identity(size)
    elif config.name == "transformer-crf":
        body = TransformerBody(
            size, config.transformer_size, config.transformer_layers, config.transformer_heads, config.dropout
        )
    else:
        body = recurrent_layer(config.cell, size, config.hidden, bidirectional=config.name == "bilstm-crf")
    head = config.head or default_head(config.name)
    return Tagger(source, body, tags, head, config.dropout)
