"""The hyperparameters of every model, in one dataclass (each model reads the ones it needs).

``params/train.yaml`` (its ``train.model`` block) sets them for a study; a
run saves them in its ``config.json``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ModelConfig:
    """Hyperparameters of every model (each reads the ones it needs)."""

    name: str = "entity-bert"  # a system of models/registry.py
    head: str | None = None  # softmax | crf; default: the model's own
    hidden: int = 128  # recurrent units per direction (the paper's best: 128)
    cell: str = "lstm"  # recurrent layer of Entity-BERT and BiLSTM-CRF: lstm, gru, sru, indrnn, gfrnn
    dropout: float = 0.1  # dropout before the classifier
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
