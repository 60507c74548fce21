"""Per-word tag scores to IOB2 tags: each word's argmax, or Viterbi constrained to valid IOB2.

A softmax head scores each word on its own, p(y_t | x). Taking each word's
argmax may emit an ``I-X`` that continues nothing (first in the sentence, after
``O`` or after another type). The two standard scorers read such a tag
differently: strict seqeval (IOB2) drops it, conlleval starts a new entity
there, so a model's figures depend on the scorer. Constrained decoding returns
the most probable *valid* sequence instead:

    y* = argmax over valid IOB2 y of  sum_t log p(y_t | x)

where y is valid when y_1 is not ``I-`` and y_t = ``I-X`` only if y_{t-1} is
``B-X`` or ``I-X``. The objective is a sum of per-word terms plus transition
scores of 0 (allowed) or -inf (forbidden), so Viterbi finds it exactly, in
O(n T^2) for n words and T tags:

    delta_1(j) = start(j) + s_1(j)                             start(j) = -inf for an I- tag
    delta_t(j) = max_i [delta_{t-1}(i) + A(i, j)] + s_t(j)     A(i, j) = -inf where j may not follow i
    y_n = argmax_j [delta_n(j) + end(j)], then the back pointers to y_1

with s_t = log p(. | x) at word t. The CRF head (:mod:`.crf`) runs the same
:func:`viterbi` with its learned start, transition and end scores. Where a
sentence's argmax is already valid IOB2 it is also the constrained answer (no
valid sequence scores higher), so the two decodings differ only on sentences
with an invalid transition.

A run is trained once and scored under both of :data:`entity_bert.data.iob2.DECODINGS`
(``training/evaluation.py``); the study's ``decode`` setting picks the one its
tables headline and the recogniser uses.
"""

from __future__ import annotations

import functools

import torch
from torch import Tensor

from entity_bert.data import iob2
from entity_bert.data.iob2 import DECODINGS

IMPOSSIBLE = float("-inf")


def iob2_moves(tags: list[str], device: torch.device | None = None) -> tuple[Tensor, Tensor]:
    """Which tags may open a sentence ([T], bool) and which may follow which ([T, T], from i to j)."""
    start, moves = _iob2_moves(tuple(tags))
    return start.to(device), moves.to(device)


@functools.lru_cache(maxsize=16)
def _iob2_moves(tags: tuple[str, ...]) -> tuple[Tensor, Tensor]:
    """Built once per tag set (T^2 checks), not at every batch that is decoded."""
    start = torch.tensor([iob2.allowed_start(tag) for tag in tags])
    moves = torch.tensor([[iob2.allowed_transition(i, j) for j in tags] for i in tags])
    return start, moves


def viterbi(scores: Tensor, mask: Tensor, start: Tensor, transitions: Tensor, end: Tensor) -> list[list[int]]:
    """The best path of each sentence: ``scores`` [B, W, T], ``mask`` [B, W] (a prefix of real words).

    ``start`` [T], ``transitions`` [T, T] (from i to j) and ``end`` [T] are
    added to the path's score; -inf forbids a move. Padded steps carry the
    scores over unchanged. Ties go to the lowest tag index (deterministic).
    """
    batch, width, size = scores.shape
    keep = torch.arange(size, device=scores.device).expand(batch, size)
    score = start + scores[:, 0]  # [B, T]
    pointers = []
    for t in range(1, width):
        best, previous = (score.unsqueeze(2) + transitions).max(dim=1)
        real = mask[:, t : t + 1]
        score = torch.where(real, best + scores[:, t], score)
        pointers.append(torch.where(real, previous, keep))  # padding points to itself
    tag = (score + end).argmax(dim=1)  # [B]
    path = [tag]
    for previous in reversed(pointers):
        tag = previous.gather(1, tag.unsqueeze(1)).squeeze(1)
        path.append(tag)
    best_paths = torch.stack(path[::-1], dim=1).tolist()
    lengths = mask.sum(1).tolist()
    return [row[:length] for row, length in zip(best_paths, lengths, strict=True)]


def argmax_tags(scores: Tensor, mask: Tensor) -> list[list[int]]:
    """Each word's best tag on its own (may be invalid IOB2)."""
    best = scores.argmax(dim=-1).tolist()
    lengths = mask.sum(dim=1).tolist()
    return [row[:n] for row, n in zip(best, lengths, strict=True)]


def constrained_tags(log_probs: Tensor, mask: Tensor, tags: list[str]) -> list[list[int]]:
    """The most probable valid IOB2 sequence of each sentence, from per-word log-probabilities."""
    start_ok, moves_ok = iob2_moves(tags, log_probs.device)
    start = torch.where(start_ok, 0.0, IMPOSSIBLE)
    transitions = torch.where(moves_ok, 0.0, IMPOSSIBLE)
    return viterbi(log_probs.float(), mask, start, transitions, torch.zeros_like(start))


def best_tags(log_probs: Tensor, mask: Tensor, tags: list[str], decode: str) -> list[list[int]]:
    """Tag indexes of each sentence under ``decode``: ``constrained`` or ``argmax``."""
    if decode == "constrained":
        return constrained_tags(log_probs, mask, tags)
    if decode == "argmax":
        return argmax_tags(log_probs, mask)
    raise ValueError(f"unknown decoding {decode!r} (known: {', '.join(DECODINGS)})")
