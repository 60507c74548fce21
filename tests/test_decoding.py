"""Decoding per-word scores: argmax, and Viterbi constrained to valid IOB2 (models/decoding.py)."""

from __future__ import annotations

import itertools

import pytest
import torch

from entity_bert.data import iob2
from entity_bert.models.decoding import argmax_tags, best_tags, constrained_tags

TAGS = ["O", "B-Drug", "I-Drug", "B-Dose", "I-Dose"]


def brute_force_best(log_probs: torch.Tensor, tags: list[str]) -> tuple[float, list[int]]:
    """The highest-scoring valid IOB2 sequence of one sentence, by trying them all."""
    best: tuple[float, list[int]] = (float("-inf"), [])
    for path in itertools.product(range(len(tags)), repeat=log_probs.shape[0]):
        if iob2.invalid_positions([tags[i] for i in path]):
            continue
        score = sum(log_probs[t, j].item() for t, j in enumerate(path))
        best = max(best, (score, list(path)), key=lambda pair: pair[0])
    return best


def random_batch(seed: int, lengths: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    scores = torch.randn(len(lengths), max(lengths), len(TAGS), generator=generator) * 3
    mask = torch.arange(max(lengths)).expand(len(lengths), -1) < torch.tensor(lengths).unsqueeze(1)
    return scores.log_softmax(dim=-1), mask


@pytest.mark.parametrize("seed", range(6))
def test_constrained_decoding_finds_the_best_valid_sequence(seed):
    log_probs, mask = random_batch(seed, [5, 3, 1])
    paths = constrained_tags(log_probs, mask, TAGS)
    for b, path in enumerate(paths):
        length = int(mask[b].sum())
        score, best = brute_force_best(log_probs[b, :length], TAGS)
        assert len(path) == length and not iob2.invalid_positions([TAGS[i] for i in path])
        assert sum(log_probs[b, t, j].item() for t, j in enumerate(path)) == pytest.approx(score, abs=1e-5)
        assert path == best  # random scores: no ties


def test_argmax_may_be_invalid_and_constrained_repairs_only_those_sentences():
    log_probs = torch.full((2, 3, len(TAGS)), -5.0)
    log_probs[0, 0, 0] = log_probs[0, 1, 2] = log_probs[0, 2, 0] = -0.1  # O I-Drug O: invalid
    log_probs[0, 1, 1] = -0.5  # B-Drug is the runner-up at the stray I-
    log_probs[1, 0, 3] = log_probs[1, 1, 4] = log_probs[1, 2, 0] = -0.1  # B-Dose I-Dose O: valid
    mask = torch.ones(2, 3, dtype=torch.bool)
    argmax, constrained = argmax_tags(log_probs, mask), constrained_tags(log_probs, mask, TAGS)
    assert [TAGS[i] for i in argmax[0]] == ["O", "I-Drug", "O"]
    assert [TAGS[i] for i in constrained[0]] == ["O", "B-Drug", "O"]
    assert argmax[1] == constrained[1] == [3, 4, 0]  # valid argmax is the constrained answer
    assert best_tags(log_probs, mask, TAGS, "argmax") == argmax
    with pytest.raises(ValueError, match="unknown decoding"):
        best_tags(log_probs, mask, TAGS, "beam")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_constrained_decoding_on_cuda_like_on_cpu():
    log_probs, mask = random_batch(3, [7, 4, 2, 7])
    cpu = constrained_tags(log_probs, mask, TAGS)
    assert constrained_tags(log_probs.cuda(), mask.cuda(), TAGS) == cpu
    assert argmax_tags(log_probs.cuda(), mask.cuda()) == argmax_tags(log_probs, mask)
