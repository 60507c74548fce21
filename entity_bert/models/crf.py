"""A linear-chain CRF head with IOB2 hard constraints, shared by every ``-CRF`` model.

A linear-chain conditional random field (Lafferty, McCallum and Pereira 2001,
"Conditional Random Fields: Probabilistic Models for Segmenting and Labeling
Sequence Data") scores a whole tag sequence instead of each word on its own,
so that it can learn which tag follows which. Put on top of per-word scores
from a neural encoder, as in Lample et al. 2016 ("Neural Architectures for
Named Entity Recognition"), for words x_1..x_n and tags y_1..y_n:

    score(x, y) = start[y_1] + sum_t emissions[t, y_t]
                  + sum_{t>1} transitions[y_{t-1}, y_t] + end[y_n]
    p(y | x)    = exp(score(x, y)) / Z(x),   Z(x) = sum over all y' of exp(score(x, y'))

``emissions[t, j]`` is the encoder's score of tag j at word t; ``start``,
``end`` and ``transitions`` (from tag i to tag j) are the CRF's parameters.
log Z comes from the forward recursion, in O(n T^2) instead of T^n terms:

    alpha_1(j) = start[j] + emissions[1, j]
    alpha_t(j) = logsumexp_i(alpha_{t-1}(i) + transitions[i, j]) + emissions[t, j]
    log Z      = logsumexp_j(alpha_n(j) + end[j])

Training minimises NLL = log Z - score(x, y_gold). Decoding (Viterbi,
:func:`entity_bert.models.decoding.viterbi`) runs the same recursion with max
instead of logsumexp, keeps the argmax as a back pointer, and follows the
pointers back from the best last tag.

**IOB2 hard constraints.** ``I-X`` may not open a sentence nor follow ``O``
or a tag of another type (:func:`entity_bert.data.iob2.allowed_start`,
:func:`entity_bert.data.iob2.allowed_transition`). A fixed buffer adds
:data:`FORBIDDEN` (-10000) to those start and transition scores in both the
forward algorithm and Viterbi, so a forbidden sequence has probability about
exp(-10000) = 0, yet gradients stay finite (an -inf would give nan through
logsumexp). Viterbi, which needs no gradient, goes further and treats the
forbidden moves as -inf: decoding never emits an invalid IOB2 sequence,
whatever the (finite) emissions, even ones far above 10000.

Padding: ``mask`` marks real words; at padded steps the forward variables and
Viterbi scores are carried over unchanged, so padding changes nothing.

We write these ~100 lines rather than use pytorch-crf: we need IOB2 hard
constraints, batched masking and deterministic decoding, and pytorch-crf is
unmaintained since 2020.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from entity_bert.data import iob2
from entity_bert.models.decoding import IMPOSSIBLE, iob2_moves, viterbi

FORBIDDEN = -10000.0
"""Score added to a forbidden start or transition (finite, so gradients stay finite)."""


class CRF(nn.Module):
    """Linear-chain CRF over the tag vocabulary ``tags`` (e.g. :func:`iob2.tag_vocabulary`).

    Parameters ``transitions`` [T, T] (from i to j), ``start`` [T] and ``end``
    [T] start at zero; the IOB2 penalties are buffers, not parameters, and are
    rebuilt from ``tags`` (so they are not saved in the state dict).
    """

    def __init__(self, tags: list[str]) -> None:
        super().__init__()
        tags = list(tags)
        if not tags:
            raise ValueError("empty tag vocabulary")
        if len(set(tags)) != len(tags):
            raise ValueError(f"duplicate tags in {tags}")
        malformed = [tag for tag in tags if not iob2.is_tag(tag)]
        if malformed:
            raise ValueError(f"malformed IOB2 tags {malformed}")
        if not any(iob2.allowed_start(tag) for tag in tags):
            raise ValueError(f"no tag of {tags} may start a sentence")
        self.tags = tags
        size = len(tags)
        self.transitions = nn.Parameter(torch.zeros(size, size))
        self.start = nn.Parameter(torch.zeros(size))
        self.end = nn.Parameter(torch.zeros(size))
        start_ok, moves_ok = iob2_moves(tags)
        transition_penalty = torch.where(moves_ok, 0.0, FORBIDDEN)
        start_penalty = torch.where(start_ok, 0.0, FORBIDDEN)
        self.register_buffer("transition_penalty", transition_penalty, persistent=False)
        self.register_buffer("start_penalty", start_penalty, persistent=False)

    @property
    def num_tags(self) -> int:
        return len(self.tags)

    def extra_repr(self) -> str:
        return f"tags={self.tags}"

    def _check(self, emissions: Tensor, mask: Tensor, tags: Tensor | None = None) -> None:
        if emissions.dim() != 3 or emissions.shape[2] != self.num_tags:
            raise ValueError(f"emissions must be [B, W, {self.num_tags}], got {list(emissions.shape)}")
        if emissions.shape[1] == 0:
            raise ValueError("emissions have no time steps")
        if mask.dtype != torch.bool or mask.shape != emissions.shape[:2]:
            wanted = list(emissions.shape[:2])
            raise ValueError(f"mask must be bool {wanted}, got {mask.dtype} {list(mask.shape)}")
        if tags is not None and tags.shape != emissions.shape[:2]:
            raise ValueError(f"tags must be [B, W] = {list(emissions.shape[:2])}, got {list(tags.shape)}")
        if not bool(mask[:, 0].all()):
            raise ValueError("every sentence needs at least one word, and the mask must be a prefix")

    def nll(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """Mean over the batch of -log p(tags | emissions); padded ``tags`` are ignored (any value)."""
        self._check(emissions, mask, tags)
        batch, width, _ = emissions.shape
        start = self.start + self.start_penalty
        transitions = self.transitions + self.transition_penalty
        tags = tags.masked_fill(~mask, 0)
        rows = torch.arange(batch, device=emissions.device)

        # Score of the gold sequence.
        emitted = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)  # [B, W]
        score = start[tags[:, 0]] + torch.where(mask, emitted, 0.0).sum(1)
        if width > 1:
            moves = transitions[tags[:, :-1], tags[:, 1:]]  # [B, W-1]
            score = score + torch.where(mask[:, 1:], moves, 0.0).sum(1)
        last = tags[rows, mask.sum(1) - 1]
        score = score + self.end[last]

        # log Z by the forward algorithm.
        alpha = start + emissions[:, 0]  # [B, T]
        for t in range(1, width):
            step = torch.logsumexp(alpha.unsqueeze(2) + transitions, dim=1) + emissions[:, t]
            alpha = torch.where(mask[:, t : t + 1], step, alpha)
        log_z = torch.logsumexp(alpha + self.end, dim=1)
        return (log_z - score).mean()

    @torch.no_grad()
    def decode(self, emissions: Tensor, mask: Tensor) -> list[list[int]]:
        """Viterbi: the best valid IOB2 tag indexes of each sentence, as long as the sentence.

        Ties go to the lowest tag index, so the result is deterministic.
        """
        self._check(emissions, mask)
        start = torch.where(self.start_penalty < 0, IMPOSSIBLE, self.start)
        transitions = torch.where(self.transition_penalty < 0, IMPOSSIBLE, self.transitions)
        return viterbi(emissions, mask, start, transitions, self.end)
