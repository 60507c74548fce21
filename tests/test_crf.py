"""The linear-chain CRF head: NLL and Viterbi against brute force, IOB2 constraints, padding, training."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from entity_bert.data import iob2
from entity_bert.models.crf import CRF, FORBIDDEN

TAGS3 = ["O", "B-X", "I-X"]
TAGS5 = iob2.tag_vocabulary(["A", "B"])  # O, B-A, I-A, B-B, I-B


def valid(tags: list[str], sequence: tuple[int, ...] | list[int]) -> bool:
    names = [tags[i] for i in sequence]
    return iob2.allowed_start(names[0]) and not iob2.invalid_positions(names)


def valid_sequences(tags: list[str], length: int) -> list[tuple[int, ...]]:
    return [seq for seq in itertools.product(range(len(tags)), repeat=length) if valid(tags, seq)]


def brute_score(crf: CRF, emissions: torch.Tensor, sequence: tuple[int, ...]) -> float:
    """score(x, y) of one unpadded sentence, in float64, without any penalty."""
    e = emissions.detach().double()
    start, end, transitions = (p.detach().double() for p in (crf.start, crf.end, crf.transitions))
    s = start[sequence[0]] + end[sequence[-1]]
    s = s + sum(e[t, y] for t, y in enumerate(sequence))
    s = s + sum(transitions[a, b] for a, b in itertools.pairwise(sequence))
    return float(s)


def randomise(crf: CRF, generator: torch.Generator, scale: float = 1.0) -> None:
    with torch.no_grad():
        for parameter in crf.parameters():
            parameter.copy_(scale * torch.randn(parameter.shape, generator=generator))


def random_batch(lengths: list[int], size: int, generator: torch.Generator, scale: float = 2.0):
    """Random emissions [B, W, T], with garbage at padded positions, and the prefix mask."""
    width = max(lengths)
    emissions = scale * torch.randn(len(lengths), width, size, generator=generator)
    mask = torch.arange(width).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)
    emissions = torch.where(mask.unsqueeze(2), emissions, 1000.0 * torch.randn(emissions.shape))
    return emissions, mask


def test_parameters_start_at_zero_and_constraints_are_buffers():
    crf = CRF(TAGS5)
    names = {name for name, _ in crf.named_parameters()}
    assert names == {"transitions", "start", "end"}
    assert all(not parameter.any() for parameter in crf.parameters())
    assert {name for name, _ in crf.named_buffers()} == {"transition_penalty", "start_penalty"}
    for i, previous in enumerate(TAGS5):
        for j, tag in enumerate(TAGS5):
            expected = 0.0 if iob2.allowed_transition(previous, tag) else FORBIDDEN
            assert crf.transition_penalty[i, j].item() == expected
    assert crf.start_penalty.tolist() == [0.0, 0.0, FORBIDDEN, 0.0, FORBIDDEN]


@pytest.mark.parametrize("tags", [[], ["O", "O"], ["O", "B X"], ["I-X"]])
def test_rejects_bad_vocabularies(tags):
    with pytest.raises(ValueError):
        CRF(tags)


def test_rejects_bad_shapes_and_masks():
    crf = CRF(TAGS3)
    emissions = torch.zeros(2, 4, 3)
    mask = torch.ones(2, 4, dtype=torch.bool)
    tags = torch.zeros(2, 4, dtype=torch.long)
    with pytest.raises(ValueError):
        crf.nll(torch.zeros(2, 4, 5), tags, mask)
    with pytest.raises(ValueError):
        crf.nll(emissions, tags[:, :3], mask)
    with pytest.raises(ValueError):
        crf.decode(emissions, mask.long())
    empty = mask.clone()
    empty[1] = False
    with pytest.raises(ValueError):
        crf.decode(emissions, empty)


def test_nll_equals_brute_force_with_constraints():
    generator = torch.Generator().manual_seed(0)
    crf = CRF(TAGS3).double()
    randomise(crf, generator)
    lengths = [4, 3, 1, 4]
    emissions, mask = random_batch(lengths, 3, generator)
    emissions = emissions.double()
    gold = []
    for length in lengths:
        candidates = valid_sequences(TAGS3, length)
        gold.append(candidates[int(torch.randint(len(candidates), (1,), generator=generator))])
    tags = torch.full(mask.shape, -100, dtype=torch.long)  # padding: an ignore index, never read
    for b, sequence in enumerate(gold):
        tags[b, : len(sequence)] = torch.tensor(sequence)

    expected = []
    for b, length in enumerate(lengths):
        scores = [brute_score(crf, emissions[b, :length], seq) for seq in valid_sequences(TAGS3, length)]
        log_z = math.log(sum(math.exp(s) for s in scores))
        expected.append(log_z - brute_score(crf, emissions[b, :length], gold[b]))
    assert len(valid_sequences(TAGS3, 4)) < 3**4  # the constraints do exclude sequences
    assert crf.nll(emissions, tags, mask).item() == pytest.approx(sum(expected) / len(expected), abs=1e-5)

    single = crf.nll(emissions[:1, :4], tags[:1, :4], mask[:1, :4]).item()
    assert single == pytest.approx(expected[0], abs=1e-5)


def test_nll_in_float32_matches_float64():
    generator = torch.Generator().manual_seed(1)
    crf = CRF(TAGS5)
    randomise(crf, generator)
    emissions, mask = random_batch([6, 2, 5], 5, generator)
    tags = torch.zeros(mask.shape, dtype=torch.long)
    low = crf.nll(emissions, tags, mask).item()
    high = crf.double().nll(emissions.double(), tags, mask).item()
    assert low == pytest.approx(high, abs=1e-4)


def test_invalid_gold_sequence_gets_the_penalty():
    crf = CRF(TAGS3)
    emissions = torch.zeros(1, 3, 3)
    mask = torch.ones(1, 3, dtype=torch.bool)
    good = crf.nll(emissions, torch.tensor([[1, 2, 0]]), mask).item()
    starts_inside = crf.nll(emissions, torch.tensor([[2, 2, 0]]), mask).item()
    after_o = crf.nll(emissions, torch.tensor([[0, 2, 0]]), mask).item()
    assert good < 5
    assert starts_inside == pytest.approx(good - FORBIDDEN, rel=1e-4)
    assert after_o == pytest.approx(good - FORBIDDEN, rel=1e-4)


def test_decode_equals_brute_force_argmax_over_valid_sequences():
    generator = torch.Generator().manual_seed(2)
    for _ in range(20):
        crf = CRF(TAGS3)
        randomise(crf, generator, scale=2.0)
        lengths = [int(n) for n in torch.randint(1, 5, (6,), generator=generator)]
        emissions, mask = random_batch(lengths, 3, generator, scale=3.0)
        decoded = crf.decode(emissions, mask)
        assert [len(row) for row in decoded] == lengths
        for b, length in enumerate(lengths):
            candidates = valid_sequences(TAGS3, length)
            best = max(candidates, key=lambda seq, b=b, n=length: brute_score(crf, emissions[b, :n], seq))
            assert decoded[b] == list(best)


@pytest.mark.parametrize("scale", [20.0, 1e6])
def test_decode_never_emits_invalid_iob2(scale):
    generator = torch.Generator().manual_seed(3)
    crf = CRF(TAGS5)
    inside = [i for i, tag in enumerate(TAGS5) if tag.startswith("I-")]
    with torch.no_grad():  # learned scores that push towards invalid moves too
        crf.start[inside] = scale
        crf.transitions[0, inside] = scale
        crf.transitions[2, 4] = crf.transitions[4, 2] = scale
    seen_inside = 0
    for _ in range(100):
        lengths = [int(n) for n in torch.randint(1, 10, (8,), generator=generator)]
        emissions, mask = random_batch(lengths, 5, generator)
        emissions[:, :, inside] += scale * torch.rand(len(lengths), max(lengths), 2, generator=generator)
        for row in crf.decode(emissions, mask):
            names = [TAGS5[i] for i in row]
            assert not names[0].startswith("I-")
            assert iob2.invalid_positions(names) == []
            seen_inside += sum(name.startswith("I-") for name in names)
    assert seen_inside > 0  # the I- tags were favoured, and used where valid


def test_decode_is_deterministic_and_ties_go_to_the_lowest_index():
    crf = CRF(TAGS5)
    emissions = torch.zeros(3, 5, 5)
    mask = torch.tensor([[True] * 5, [True] * 2 + [False] * 3, [True] + [False] * 4])
    assert crf.decode(emissions, mask) == [[0] * 5, [0] * 2, [0]]
    generator = torch.Generator().manual_seed(4)
    emissions, mask = random_batch([5, 3, 1], 5, generator)
    torch.manual_seed(0)
    first = crf.decode(emissions, mask)
    torch.manual_seed(1)
    assert crf.decode(emissions, mask) == first


def test_padding_changes_neither_nll_nor_decode():
    generator = torch.Generator().manual_seed(5)
    crf = CRF(TAGS5)
    randomise(crf, generator)
    lengths = [3, 7, 1, 5]
    emissions, mask = random_batch(lengths, 5, generator)
    tags = torch.randint(0, 5, mask.shape, generator=generator)
    tags[~mask] = -100
    batch_nll = crf.nll(emissions, tags, mask)
    batch_paths = crf.decode(emissions, mask)
    alone_nll = []
    for b, length in enumerate(lengths):
        one_mask = torch.ones(1, length, dtype=torch.bool)
        alone_nll.append(crf.nll(emissions[b : b + 1, :length], tags[b : b + 1, :length], one_mask))
        assert crf.decode(emissions[b : b + 1, :length], one_mask) == [batch_paths[b]]
    assert batch_nll.item() == pytest.approx(torch.stack(alone_nll).mean().item(), abs=1e-4)


def test_nll_is_differentiable_and_training_recovers_gold_tags():
    torch.manual_seed(6)
    crf = CRF(TAGS5)
    gold = torch.tensor([[1, 2, 2, 0, 3, 4], [0, 3, 4, 1, 0, -100], [3, 0, 1, 2, -100, -100]])
    mask = gold >= 0
    emissions = torch.zeros(3, 6, 5, requires_grad=True)

    loss = crf.nll(emissions, gold, mask)
    loss.backward()
    for tensor in (emissions, crf.transitions, crf.start, crf.end):
        assert tensor.grad is not None
        assert torch.isfinite(tensor.grad).all()
        assert tensor.grad.abs().sum() > 0
    assert not emissions.grad[~mask].any()  # padding gets no gradient

    optimiser = torch.optim.Adam([emissions, *crf.parameters()], lr=0.1)
    first = None
    for _ in range(50):
        optimiser.zero_grad()
        loss = crf.nll(emissions, gold, mask)
        first = loss.item() if first is None else first
        loss.backward()
        optimiser.step()
    assert crf.nll(emissions, gold, mask).item() < first / 10
    expected = [row[row >= 0].tolist() for row in gold]
    assert crf.decode(emissions, mask) == expected


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_runs_on_cuda_like_on_cpu():
    generator = torch.Generator().manual_seed(7)
    crf = CRF(TAGS5)
    randomise(crf, generator)
    emissions, mask = random_batch([4, 2, 6], 5, generator)
    tags = torch.zeros(mask.shape, dtype=torch.long)
    cpu = (crf.nll(emissions, tags, mask).item(), crf.decode(emissions, mask))
    crf.cuda()
    emissions, tags, mask = emissions.cuda(), tags.cuda(), mask.cuda()
    cuda = (crf.nll(emissions, tags, mask).item(), crf.decode(emissions, mask))
    assert cuda[0] == pytest.approx(cpu[0], abs=1e-4)
    assert cuda[1] == cpu[1]
