"""Biaffine NER: named entity recognition as dependency parsing, over the shared encoder.

Yu, Bohnet and Poesio (2020), "Named Entity Recognition as Dependency
Parsing", ACL 2020, arXiv 2005.07150. Every span ``(i, j)``, ``i <= j`` (first
and last word, inclusive) of a sentence of n words gets a score for each of
c = types + 1 classes (class 0: not an entity), the way a biaffine dependency
parser (Dozat and Manning 2017) scores head-dependent pairs:

    x_i = encoder word state of word i                          (the paper's input embeddings)
    x*_i = BiLSTM(x_1..x_n)_i                                   (its BiLSTM)
    h_s(i) = FFNN_s(x*_i),  h_e(i) = FFNN_e(x*_i)   in R^d        (Eq. 1; d = biaffine_size, 150)
    r_m(i, j) = h_s(i)^T U_m h_e(j) + W_m [h_s(i); h_e(j)] + b_m   (Eq. 2)
                U_m in R^{d x c x d}, W_m in R^{2d x c}, b_m in R^c
    p_m(i, j, c) = softmax_c(r_m(i, j))                          (softmax over the c classes)
    loss = - mean over valid spans (i <= j, both real words) of log p_m(i, j, y_m(i, j))
    y_m(i, j) = the gold type of span (i, j), or 0 when it is no entity

Decoding (section 3.3): each span takes its most likely class
y'(i, j) = argmax_c r_m(i, j, c); the spans with y' != 0 are ranked by their
score (the softmax probability p_m(i, j, y'), as the released code ranks
them), and kept in that order unless they clash with a span kept before. For
flat NER any overlap is a clash (:func:`.span_decoding.decode_flat`); the kept
spans become IOB2 tags (:func:`.span_decoding.spans_to_indexes`).

All n^2 x c scores come from two batched products (einsum: h_s^T U first,
then with h_e; torch's one three-way einsum is far slower), with masks for
padding and i > j; a sentence of n words costs n^2 x c floats (500 words, 7
classes: 1.75 M), so long sentences do not blow up. Every span is scored, as
in the paper (``span_max_words`` is not used).

Where we deviate from the paper, and why:
- Input: the paper's BiLSTM reads BERT + fastText + character-CNN embeddings
  and has 3 layers of 200 units per direction (with highway connections). Ours
  reads the shared encoder's word states (its first word piece, fine-tuned or
  frozen) through one bidirectional layer of ``config.hidden`` units
  (``config.cell``), so that every system of Tables 2-5 shares one encoder.
- Dropout: one rate (``config.dropout``) on the BiLSTM input, BiLSTM output and
  FFNN outputs, where the paper has 0.5 / 0.4 / 0.2; the FFNNs are one ReLU
  layer each (the released code's projection is linear).
- U, W and b start at zero, as in the released code (and Dozat and Manning's
  parser). Optimisation is the engine's (Adam, its learning rates and gradient
  clipping, best epoch by dev F1), not the paper's own schedule (Adam 1e-3
  with decay), so that every system is trained alike.
- The loss is the mean over valid spans of the batch (the released code sums
  over a document's spans); with Adam, only the balance between batches differs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from entity_bert.data.iob2 import tag_types
from entity_bert.models.recurrent import recurrent_layer
from entity_bert.models.span_decoding import Span, decode_flat, gold_spans, spans_to_indexes
from entity_bert.models.tagger import NERModel

if TYPE_CHECKING:
    from entity_bert.models.config import EncoderSpec, ModelConfig

NON_ENTITY = 0  # class index of "no entity"; type k of ``iob2.tag_types`` is class k + 1


def valid_spans(mask: Tensor) -> Tensor:
    """[B, n, n] bool: span (i, j) has i <= j and both words real (``mask`` [B, n])."""
    pair = mask.unsqueeze(2) & mask.unsqueeze(1)
    return pair & torch.ones_like(pair[0]).triu()


def gold_classes(labels: Tensor, tags: list[str]) -> Tensor:
    """[B, n, n] gold class of every span (i, j) (inclusive ends): 0, or 1 + its type's index."""
    classes = {kind: k + 1 for k, kind in enumerate(tag_types(tags))}
    gold = torch.full((*labels.shape, labels.shape[1]), NON_ENTITY, dtype=torch.long)
    for b, row in enumerate(labels.tolist()):
        for first, end, kind in gold_spans(row, tags):
            gold[b, first, end - 1] = classes[kind]
    return gold.to(labels.device)


def flat_spans(scores: Tensor, mask: Tensor, types: list[str]) -> list[list[Span]]:
    """Section 3.3's flat decoding of span scores [B, n, n, c]: per sentence, non-clashing spans."""
    probability, best = scores.float().softmax(dim=-1).max(dim=-1)  # [B, n, n]
    candidate = valid_spans(mask) & (best != NON_ENTITY)
    index = candidate.nonzero().tolist()  # only the entity candidates leave the device
    chosen_class = best[candidate].tolist()
    score = probability[candidate].tolist()
    scored: list[list[tuple[float, Span]]] = [[] for _ in range(scores.shape[0])]
    for (b, first, last), k, p in zip(index, chosen_class, score, strict=True):
        scored[b].append((p, (first, last + 1, types[k - 1])))
    return [decode_flat(candidates) for candidates in scored]


class BiaffineScorer(nn.Module):
    """r(i, j) = h_s(i)^T U h_e(j) + W (h_s(i) + h_e(j)) + b, for all pairs at once (Eq. 2)."""

    def __init__(self, size: int, classes: int) -> None:
        super().__init__()
        self.bilinear = nn.Parameter(torch.zeros(size, classes, size))  # U: d x c x d
        self.linear_start = nn.Parameter(torch.zeros(size, classes))  # W's half for h_s
        self.linear_end = nn.Parameter(torch.zeros(size, classes))  # W's half for h_e
        self.bias = nn.Parameter(torch.zeros(classes))  # b

    def forward(self, start: Tensor, end: Tensor) -> Tensor:
        """[B, n, d] starts and ends -> [B, n, n, c] scores (start i, end j)."""
        start_map = torch.einsum("bid,dce->bice", start, self.bilinear)  # h_s(i)^T U: [B, n, c, d]
        bilinear = torch.einsum("bice,bje->bijc", start_map, end)
        linear = (start @ self.linear_start).unsqueeze(2) + (end @ self.linear_end).unsqueeze(1)
        return bilinear + linear + self.bias


class Biaffine(NERModel):
    """Encoder -> BiLSTM -> start/end FFNNs -> biaffine span scores -> flat span decoding."""

    def __init__(
        self,
        source: nn.Module,
        tags: list[str],
        hidden: int = 128,
        cell: str = "lstm",
        size: int = 150,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.source = source
        self.tags = tags
        self.types = tag_types(tags)
        self.dropout = nn.Dropout(dropout)
        self.recurrent = recurrent_layer(cell, source.output_size, hidden, bidirectional=True)
        width = self.recurrent.output_size
        self.start = nn.Sequential(nn.Linear(width, size), nn.ReLU(), nn.Dropout(dropout))  # FFNN_s
        self.end = nn.Sequential(nn.Linear(width, size), nn.ReLU(), nn.Dropout(dropout))  # FFNN_e
        self.scorer = BiaffineScorer(size, len(self.types) + 1)

    def scores(self, batch: dict[str, Tensor]) -> Tensor:
        """[B, n, n, c] span scores r_m(i, j) in fp32 (invalid spans included; mask them)."""
        x = self.dropout(self.source(batch))
        states = self.dropout(self.recurrent(x, batch["mask"]))
        return self.scorer(self.start(states), self.end(states)).float()

    def loss(self, batch: dict[str, Tensor]) -> Tensor:
        valid = valid_spans(batch["mask"])
        gold = gold_classes(batch["labels"], self.tags)
        return F.cross_entropy(self.scores(batch)[valid], gold[valid])

    def decode(self, batch: dict[str, Tensor]) -> list[list[int]]:
        spans = flat_spans(self.scores(batch), batch["mask"], self.types)
        lengths = batch["mask"].sum(dim=1).tolist()
        return [spans_to_indexes(n, kept, self.tags) for n, kept in zip(lengths, spans, strict=True)]


def build(config: ModelConfig, tags: list[str], source: nn.Module, encoder: EncoderSpec) -> Biaffine:
    """The model, from the shared encoder source (``registry.build_tagger`` calls this)."""
    return Biaffine(source, tags, config.hidden, config.cell, config.biaffine_size, config.dropout)
