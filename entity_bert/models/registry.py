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
| mrc             | query + sentence (encoder) | start/end/match      | spans   | MRC (Li 2019)    |
| biaffine        | encoder                    | BiLSTM + biaffine    | spans   | biaffine (Yu 2020) |
| template        | encoder-decoder            | template scores      | spans   | template (Cui 2021) |
| container       | encoder                    | Gaussian embeddings  | nearest | CONTaiNER (Das 2021) |

Regimes: encoder models are trained ``finetune`` (encoder trained too) or
``frozen`` (encoder fixed, its word features cached); the others are trained
``scratch``. ``head`` overrides a model's head (e.g. Entity-BERT with a CRF).

The comparison systems of the paper's Tables 2-5 (``SYSTEMS``) bring their own
decoders; each module's ``build`` assembles one from the shared encoder
source. Span-based ones turn their spans into IOB2 tags
(:mod:`.span_decoding`), so one evaluation scores every model. MRC and
template NER read the sentence together with text of their own (queries,
templates), so they cannot use the frozen regime's cached sentence features:
frozen, they run the fixed encoder live.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from ..batching import Vocabulary
from ..encoder import EncoderSpec, WordEncoder, load_encoder
from . import MODEL_NAMES, biaffine, container, mrc, template
from .entity_bert import EntityBertBody
from .recurrent import recurrent_layer
from .scratch import ScratchSource, TransformerBody
from .tagger import EncoderSource, Identity, Tagger

SYSTEMS = {  # the comparison systems: name -> builder; each decodes in its own way
    "mrc": mrc.build,
    "biaffine": biaffine.build,
    "template": template.build,
    "container": container.build,
}
ENCODER_MODELS = {"entity-bert": "softmax", "bert": "softmax", "bert-crf": "crf", **{n: n for n in SYSTEMS}}
SCRATCH_MODELS = {"lstm-crf": "crf", "bilstm-crf": "crf", "transformer-crf": "crf"}
MODELS = [*ENCODER_MODELS, *SCRATCH_MODELS, "crf"]
assert tuple(MODELS) == MODEL_NAMES
LIVE_ENCODER_MODELS = {"mrc", "template"}  # read text of their own beside the sentence: no feature cache


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
    # comparison systems (Tables 2-5)
    span_max_words: int = 10  # longest candidate span, in words (biaffine, MRC span matching, template)
    biaffine_size: int = 150  # biaffine: size of the start/end FFNN representations (Yu et al. 2020)
    mrc_queries: str = "params/mrc_queries.yaml"  # MRC: one natural-language query per entity type
    template_decoder: str | None = None  # template: a seq2seq checkpoint (BART); None: BERT2BERT
    template_negatives: float = 1.5  # template: non-entity spans sampled per gold entity in training
    container_dim: int = 128  # CONTaiNER: size of the Gaussian embeddings
    container_shots: int | None = None  # CONTaiNER: few-shot support of K per type; None: supervised


def regimes(name: str) -> list[str]:
    """The training regimes that apply to a model."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r} (known: {', '.join(MODELS)})")
    return ["finetune", "frozen"] if name in ENCODER_MODELS else ["scratch"]


def default_head(name: str) -> str:
    """The head a model has unless told otherwise."""
    return {**ENCODER_MODELS, **SCRATCH_MODELS, "crf": "crf"}[name]


def caches_features(name: str) -> bool:
    """Whether the frozen regime may train ``name`` on cached encoder features of the sentence alone."""
    return name in ENCODER_MODELS and name not in LIVE_ENCODER_MODELS


def input_kind(name: str) -> str:
    """``encoder``, ``words`` or ``features`` (the feature CRF)."""
    return "encoder" if name in ENCODER_MODELS else "words" if name in SCRATCH_MODELS else "features"


def build_tagger(
    config: ModelConfig,
    tags: list[str],
    regime: str,
    encoder: EncoderSpec | None = None,
    vocabulary: Vocabulary | None = None,
) -> nn.Module:
    """A neural model, freshly initialised from torch's RNG (the pretrained encoder excepted).

    Every one has ``source`` (its input), ``loss(batch)`` and ``decode(batch)``
    (IOB2 tag indexes per word), the interface the engine and evaluation use.
    """
    if regime not in regimes(config.name) or config.name == "crf":
        raise ValueError(f"model {config.name!r} is not trained in regime {regime!r}")
    if config.name in ENCODER_MODELS:
        source: nn.Module = EncoderSource(
            WordEncoder(load_encoder(encoder or EncoderSpec())), regime == "frozen"
        )
        if config.name in SYSTEMS:
            return SYSTEMS[config.name](config, tags, source, encoder or EncoderSpec())
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
