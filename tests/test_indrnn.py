"""IndRNN: Eq. 2 by hand, the recurrent-weight clamp, padding, gradients, shapes."""

from __future__ import annotations

import pytest
import torch
from torch.func import functional_call

from entity_bert.models.indrnn import IndRNN
from entity_bert.models.recurrent import Bidirectional

# input_size 3, hidden 2: W [2, 3], b [2], u [2]; x is one sentence of 3 words.
W = [[1.0, -1.0, 0.5], [0.5, 2.0, -1.0]]
B = [0.1, -0.2]
U = [0.5, 0.8]
X = [[1.0, 0.0, 2.0], [0.0, 1.0, 0.0], [-1.0, 0.5, 1.0]]


def by_hand(x: list[list[float]], w: list[list[float]], b: list[float], u: list[float]) -> list[list[float]]:
    """h_t = relu(W x_t + u * h_{t-1} + b), h_0 = 0, in plain Python floats."""
    h = [0.0] * len(b)
    states = []
    for x_t in x:
        h = [
            max(0.0, sum(w_nj * x_j for w_nj, x_j in zip(w_n, x_t, strict=True)) + u_n * h_n + b_n)
            for w_n, b_n, u_n, h_n in zip(w, b, u, h, strict=True)
        ]
        states.append(h)
    return states


def set_weights(layer: IndRNN, u: list[float]) -> IndRNN:
    with torch.no_grad():
        layer.input.weight.copy_(torch.tensor(W))
        layer.input.bias.copy_(torch.tensor(B))
        layer.recurrent.copy_(torch.tensor(u))
    return layer


def run_one(layer: IndRNN, x: list[list[float]]) -> torch.Tensor:
    inputs = torch.tensor([x])
    return layer(inputs, torch.ones(1, len(x), dtype=torch.bool))[0]


def test_matches_hand_computation() -> None:
    expected = by_hand(X, W, B, U)
    # Worked out on paper: relu is active for some units and cut off for others.
    assert [h for h_t in expected for h in h_t] == pytest.approx([2.1, 0.0, 0.15, 1.8, 0.0, 0.74], abs=1e-12)
    layer = set_weights(IndRNN(3, 2), U)
    torch.testing.assert_close(run_one(layer, X), torch.tensor(expected), atol=1e-6, rtol=0)


def test_max_recurrent_clamps_u() -> None:
    clamped = torch.tensor(by_hand(X, W, B, [1.0, -1.0]))
    layer = set_weights(IndRNN(3, 2, max_recurrent=1.0), [5.0, -5.0])
    torch.testing.assert_close(run_one(layer, X), clamped, atol=1e-6, rtol=0)
    assert layer.recurrent.tolist() == [5.0, -5.0]  # clamped in forward, not in place
    free = set_weights(IndRNN(3, 2), [5.0, -5.0])
    assert not torch.allclose(run_one(free, X), clamped, atol=1e-3)
    with pytest.raises(ValueError, match="max_recurrent"):
        IndRNN(3, 2, max_recurrent=0.0)


def test_recurrent_weights_start_in_unit_interval() -> None:
    torch.manual_seed(0)
    u = IndRNN(4, 64).recurrent
    assert u.shape == (64,) and bool(((u >= 0) & (u <= 1)).all())


def padded_pair(d: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A 3-word sentence alone, and in a batch after a 6-word one with large garbage in its padding."""
    generator = torch.Generator().manual_seed(1)
    short = torch.randn(1, 3, d, generator=generator)
    batch = 1e4 * torch.randn(2, 6, d, generator=generator)
    batch[0, :3] = short[0]
    batch[1] = torch.randn(6, d, generator=generator)
    mask = torch.tensor([[True] * 3 + [False] * 3, [True] * 6])
    return short, batch, mask


@pytest.mark.parametrize("bidirectional", [False, True])
def test_padding_does_not_change_real_outputs(bidirectional: bool) -> None:
    d, h = 4, 5
    torch.manual_seed(2)
    layer = Bidirectional(IndRNN(d, h), IndRNN(d, h)) if bidirectional else IndRNN(d, h)
    short, batch, mask = padded_pair(d)
    alone = layer(short, torch.ones(1, 3, dtype=torch.bool))
    together = layer(batch, mask)
    torch.testing.assert_close(together[0, :3], alone[0], atol=1e-6, rtol=0)
    assert bool((alone[0].abs() > 0).any())  # not trivially all zero
    assert bool((together[0, 3:] == 0).all())  # padded outputs are 0


def test_padding_before_words_is_skipped() -> None:
    torch.manual_seed(3)
    layer = IndRNN(4, 5)
    x = torch.randn(1, 5, 4)
    out = layer(x, torch.tensor([[False, False, True, True, True]]))
    torch.testing.assert_close(out[0, 2:], layer(x[:, 2:], torch.ones(1, 3, dtype=torch.bool))[0])


def test_gradcheck_input_and_parameters() -> None:
    torch.manual_seed(4)
    layer = IndRNN(3, 2, max_recurrent=1.5).double()
    with torch.no_grad():
        layer.recurrent.copy_(torch.tensor([0.7, -0.9], dtype=torch.float64))  # inside the clamp
    x = torch.randn(2, 4, 3, dtype=torch.float64)
    mask = torch.tensor([[True] * 4, [True, True, False, False]])
    names = [name for name, _ in layer.named_parameters()]
    params = [p.detach().clone().requires_grad_(True) for _, p in layer.named_parameters()]

    # No pre-activation W x_t + u * h_{t-1} + b sits near relu's kink at 0 (and both sides occur).
    pre = []
    with torch.no_grad():
        projected, state = layer.input(x), torch.zeros(2, 2, dtype=torch.float64)
        for t in range(4):
            pre.append(projected[:, t] + layer.recurrent * state)
            state = torch.relu(pre[-1])
    pre_real = torch.stack(pre, dim=1)[mask]
    assert float(pre_real.abs().min()) > 1e-3
    assert bool((pre_real > 0).any()) and bool((pre_real < 0).any())

    def f(inputs: torch.Tensor, *values: torch.Tensor) -> torch.Tensor:
        return functional_call(layer, dict(zip(names, values, strict=True)), (inputs, mask))

    assert torch.autograd.gradcheck(f, (x.requires_grad_(True), *params))


@pytest.mark.parametrize("bidirectional", [False, True])
def test_no_gradient_at_padded_inputs(bidirectional: bool) -> None:
    torch.manual_seed(5)
    layer = Bidirectional(IndRNN(3, 4), IndRNN(3, 4)) if bidirectional else IndRNN(3, 4)
    mask = torch.tensor([[True] * 5, [True, True, True, False, False]])
    x = (1e4 * torch.randn(2, 5, 3)).requires_grad_(True)
    (layer(x, mask) ** 2).sum().backward()
    assert x.grad is not None
    assert bool((x.grad[~mask] == 0).all())
    assert bool((x.grad[mask] != 0).any())


def test_shapes_and_output_size() -> None:
    layer = IndRNN(7, 6)
    mask = torch.tensor([[True] * 4, [True, True, False, False]])
    x = torch.randn(2, 4, 7)
    assert layer.output_size == 6
    assert layer(x, mask).shape == (2, 4, 6)
    both = Bidirectional(IndRNN(7, 6), IndRNN(7, 6))
    assert both.output_size == 12
    assert both(x, mask).shape == (2, 4, 12)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu() -> None:
    torch.manual_seed(6)
    layer = IndRNN(4, 5, max_recurrent=1.0)
    x, mask = torch.randn(2, 6, 4), torch.tensor([[True] * 6, [True] * 3 + [False] * 3])
    expected = layer(x, mask)
    got = layer.cuda()(x.cuda(), mask.cuda())
    assert got.device.type == "cuda"
    torch.testing.assert_close(got.cpu(), expected, atol=1e-5, rtol=1e-5)
