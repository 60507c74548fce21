"""The study's systems: one row each, from which every list of names is derived.

| name            | input                      | body                 | head    | paper row        |
|-----------------|----------------------------|----------------------|---------|------------------|
| entity-bert     | encoder                    | Entity-BERT body     | softmax | Entity-BERT      |
| bert            | encoder                    | none                 | softmax | BERT             |
| bert-crf        | encoder                    | none                 | CRF     | BERT-CRF         |
| mrc             | query + sentence (encoder) | start/end/match      | spans   | MRC (Li 2019)    |
| biaffine        | encoder                    | BiLSTM + biaffine    | spans   | biaffine (Yu 2020) |
| template        | encoder-decoder            | template scores      | spans   | template (Cui 2021) |
| container       | encoder                    | Gaussian embeddings  | nearest | CONTaiNER (Das 2021) |
| lstm-crf        | words (scratch)            | LSTM, left to right  | CRF     | LSTM-CRF         |
| bilstm-crf      | words + characters         | BiLSTM               | CRF     | BiLSTM-CRF       |
| transformer-crf | words + characters         | Transformer encoder  | CRF     | Transformer-CRF  |
| crf             | hand-made features         | (sklearn-crfsuite)   | CRF     | CRF              |
| hf-trainer      | encoder (HF Trainer)       | none                 | softmax | (reference row)  |

A :class:`System` row holds a system's name, its builder, its input kind and
own head, the paper's label and the method's citation, its table group (the
systems of the paper's Tables 2-5 are group ``paper``), and its special cases:
whether it reads text of its own beside the sentence (MRC's queries, template
NER's templates: no cached sentence features; frozen, it runs the fixed
encoder live) and which of its settings name files that travel with an
exported model. What a model does while training (CONTaiNER re-reads its
support set, MRC memoises a frozen encoder's states) it declares itself, by
overriding the hooks of :class:`~entity_bert.models.tagger.NERModel`.

Regimes: encoder models are trained ``finetune`` (encoder trained too),
``frozen`` (encoder fixed, its word features cached) or ``top`` (only the
encoder's top ``trainable_layers`` layers trained, over the cached piece
states of the layers below; not for systems that read text of their own);
the others are trained ``scratch``. ``head`` overrides a model's head (e.g. Entity-BERT with a CRF).

Adding a system: its model file, one row in :data:`SYSTEMS`, and its
settings in ``params/train.yaml`` (``CONTRIBUTING.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from entity_bert.models.config import EncoderSpec, ModelConfig

if TYPE_CHECKING:
    from torch import nn

    from entity_bert.models.batching import Vocabulary

# A builder: (settings, tags, input source, encoder spec, head) -> a fresh model.
# Builders import their model's module when called, so that reading the
# registry (the tables, the report, the command line) loads no torch.
Builder = Callable[[ModelConfig, list[str], "nn.Module", EncoderSpec, str], "nn.Module"]


@dataclass(frozen=True)
class System:
    """One row of the registry: everything the study knows of a system."""

    name: str
    build: Builder | None  # None: trains in its own way (the feature CRF, the HF Trainer reference)
    input: str  # encoder | words | features | trainer
    head: str  # its own head: softmax | crf | spans | nearest
    label: str | None = None  # the paper's method name in Tables 2-5, if the paper has the system
    citation: str = ""  # where the method comes from
    group: str = "other"  # "paper" (the systems of Tables 2-5), "reference" (a row beside them) or "other"
    live_encoder: bool = False  # reads text of its own beside the sentence: no cached sentence features
    exports: tuple[tuple[str, str], ...] = ()  # (setting, file name): files an exported model carries
    characters: bool = True  # words input: a character CNN beside the word embeddings
    named_cell: bool = False  # its recurrent cell is part of its run name when not the LSTM (Table 6)
    # The files only some systems run (project-relative): its own model, beside the shared training
    # code (study/code.py). A cell's DVC stage depends on the shared code and these, nothing else.
    code: tuple[str, ...] = ()


def _tagger(body: Callable[[ModelConfig, int], nn.Module]) -> Builder:
    """A builder of source -> ``body`` -> linear emissions -> softmax or CRF (:class:`Tagger`)."""

    def build(config: ModelConfig, tags: list[str], source: nn.Module, encoder: EncoderSpec, head: str):
        from entity_bert.models.tagger import Tagger

        return Tagger(source, body(config, source.output_size), tags, head, config.dropout)

    return build


# The comparison systems build themselves (each decodes in its own way; the head is its own).
def _mrc(config: ModelConfig, tags: list[str], source: nn.Module, encoder: EncoderSpec, head: str):
    from entity_bert.models import mrc

    return mrc.build(config, tags, source, encoder)


def _biaffine(config: ModelConfig, tags: list[str], source: nn.Module, encoder: EncoderSpec, head: str):
    from entity_bert.models import biaffine

    return biaffine.build(config, tags, source, encoder)


def _template(config: ModelConfig, tags: list[str], source: nn.Module, encoder: EncoderSpec, head: str):
    from entity_bert.models import template

    return template.build(config, tags, source, encoder)


def _container(config: ModelConfig, tags: list[str], source: nn.Module, encoder: EncoderSpec, head: str):
    from entity_bert.models import container

    return container.build(config, tags, source, encoder)


# The bodies between a tagger's input and its head.
def _entity_bert(config: ModelConfig, size: int) -> nn.Module:
    from entity_bert.models.entity_bert import EntityBertBody

    return EntityBertBody(size, config.hidden, config.cell)


def _no_body(config: ModelConfig, size: int) -> nn.Module:
    """BERT: the encoder's states go straight to the head."""
    from entity_bert.models.tagger import Identity

    return Identity(size)


def _recurrent(bidirectional: bool) -> Callable[[ModelConfig, int], nn.Module]:
    """A body of the configured recurrent cell, both ways or left to right."""

    def body(config: ModelConfig, size: int) -> nn.Module:
        from entity_bert.models.recurrent import recurrent_layer

        return recurrent_layer(config.cell, size, config.hidden, bidirectional)

    return body


def _transformer(config: ModelConfig, size: int) -> nn.Module:
    from entity_bert.models.scratch import TransformerBody

    return TransformerBody(
        size, config.transformer_size, config.transformer_layers, config.transformer_heads, config.dropout
    )


_encoder_only = _tagger(_no_body)  # BERT and BERT-CRF

# Modules that some systems run and others never do (the rest of the training code is shared).
_M = "entity_bert/models/"
_RNN = tuple(f"{_M}{name}.py" for name in ("recurrent", "sru", "indrnn", "gfrnn"))  # the recurrent cells
_SPANS = (f"{_M}span_decoding.py",)


ROWS = [  # the paper's systems first, in the order of its tables
    System(
        "mrc", _mrc, "encoder", "mrc", "Li et al. (2019) MRC",
        "Li et al. (2020), ACL, arXiv 1910.11476", "paper",
        live_encoder=True, exports=(("mrc_queries", "mrc_queries.yaml"),),
        code=(f"{_M}mrc.py", *_SPANS, "params/mrc_queries.yaml"),
    ),
    System(
        "biaffine", _biaffine, "encoder", "biaffine", "Yu et al. (2020) biaffine",
        "Yu, Bohnet and Poesio (2020), ACL", "paper", code=(f"{_M}biaffine.py", *_SPANS, *_RNN),
    ),
    System(
        "template", _template, "encoder", "template", "Cui et al. (2021) template BART",
        "Cui et al. (2021), Findings of ACL", "paper", live_encoder=True,
        code=(f"{_M}template.py", *_SPANS),
    ),
    System(
        "bert", _encoder_only, "encoder", "softmax",
        "BERT (Li et al. 2020)", "Devlin et al. (2019), NAACL", "paper",
    ),
    System(
        "container", _container, "encoder", "container", "CONTaiNER (Das et al. 2021)",
        "Das et al. (2022), ACL, arXiv 2109.07589", "paper", code=(f"{_M}container.py",),
    ),
    System(
        "entity-bert", _tagger(_entity_bert), "encoder", "softmax",
        "Entity-BERT (ours)", "Lu et al. (2023), Front. Neurosci. 17:1259652", "paper", named_cell=True,
        code=(f"{_M}entity_bert.py", *_RNN),
    ),
    System(
        "bert-crf", _encoder_only, "encoder", "crf", citation="Devlin et al. (2019)"
    ),
    System(
        "lstm-crf", _tagger(_recurrent(bidirectional=False)), "words", "crf",
        citation="Huang, Xu and Yu (2015)", characters=False, code=(f"{_M}scratch.py", *_RNN),
    ),
    System(
        "bilstm-crf", _tagger(_recurrent(bidirectional=True)), "words", "crf",
        citation="Lample et al. (2016)", named_cell=True, code=(f"{_M}scratch.py", *_RNN),
    ),
    System(
        "transformer-crf", _tagger(_transformer), "words", "crf",
        citation="Vaswani et al. (2017)", code=(f"{_M}scratch.py",),
    ),
    System(
        "crf", None, "features", "crf",
        citation="Lafferty et al. (2001); sklearn-crfsuite", code=(f"{_M}feature_crf.py",),
    ),
    System(  # a check of our harness (training/reference.py), beside the paper's systems in Tables 2-3
        "hf-trainer", None, "trainer", "softmax", "HF Trainer (reference)",
        "Wolf et al. (2020), EMNLP demos: transformers' run_ner.py recipe", "reference",
        code=("entity_bert/training/reference.py",),
    ),
]
SYSTEMS: dict[str, System] = {row.name: row for row in ROWS}
MODEL_NAMES = tuple(SYSTEMS)  # every name the commands accept
# The systems of the paper's Tables 2-5, in the rows' order, by their label there.
SYSTEM_METHODS = {row.name: row.label for row in ROWS if row.group == "paper"}
# The rows of our Tables 2-5: the paper's systems, then the reference recipe.
TABLE_SYSTEMS = {row.name: row.label for row in ROWS if row.group in ("paper", "reference")}


def system(name: str) -> System:
    if name not in SYSTEMS:
        raise ValueError(f"unknown model {name!r} (known: {', '.join(SYSTEMS)})")
    return SYSTEMS[name]


def regimes(name: str) -> list[str]:
    """The training regimes that apply to a model."""
    row = system(name)
    if row.input == "encoder":  # `top` caches the lower layers' states of the sentence alone
        return ["finetune", "frozen"] if row.live_encoder else ["finetune", "frozen", "top"]
    return {"trainer": ["finetune"]}.get(row.input, ["scratch"])


def default_head(name: str) -> str:
    """The head a model has unless told otherwise."""
    return system(name).head


def caches_features(name: str) -> bool:
    """Whether the frozen regime may train ``name`` on cached encoder features of the sentence alone."""
    row = system(name)
    return row.input == "encoder" and not row.live_encoder


def input_kind(name: str) -> str:
    """``encoder``, ``words``, ``features`` (the feature CRF) or ``trainer`` (the HF reference)."""
    return system(name).input


def build_tagger(
    config: ModelConfig,
    tags: list[str],
    regime: str,
    encoder: EncoderSpec | None = None,
    vocabulary: Vocabulary | None = None,
) -> nn.Module:
    """A neural model, freshly initialised from torch's RNG (the pretrained encoder excepted).

    Every one is a :class:`~entity_bert.models.tagger.NERModel`: ``source``
    (its input), ``loss(batch)`` and ``decode(batch)`` (IOB2 tag indexes per
    word), the interface the engine and evaluation use.
    """
    row = system(config.name)
    if regime not in regimes(config.name) or row.build is None:
        raise ValueError(f"model {config.name!r} is not trained in regime {regime!r}")
    from entity_bert.models.encoder import WordEncoder, load_encoder
    from entity_bert.models.scratch import ScratchSource
    from entity_bert.models.tagger import EncoderSource

    encoder = encoder or EncoderSpec()
    if row.input == "encoder":
        trainable = {"frozen": 0, "top": config.trainable_layers}.get(regime)  # finetune: all of them
        source: nn.Module = EncoderSource(WordEncoder(load_encoder(encoder)), trainable)
    else:
        source = ScratchSource(
            vocabulary, config.word_dim, config.char_dim, config.char_filters, row.characters
        )
    return row.build(config, tags, source, encoder, config.head or row.head)
