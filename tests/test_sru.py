"""The SRU layer: hand-computed steps, padding invariance, gradients, shapes."""

from __future__ import annotations

import math

import pytest
import torch
from torch.func import functional_call

from entity_bert.models.recurrent import Bidirectional
from entity_bert.models.sru import SRU

Matrix = list[list[float]]
Vector = list[float]


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def matvec(m: Matrix, v: Vector) -> Vector:
    return [sum(a * b for a, b in zip(row, v, strict=True)) for row in m]


def hand_sru(
    xs: list[Vector],
    w: Matrix,
    w_f: Matrix,
    w_r: Matrix,
    v_f: Vector,
    v_r: Vector,
    b_f: Vector,
    b_r: Vector,
    w_p: Matrix | None,
) -> list[tuple[Vector, Vector]]:
    """(c_t, h_t) for each step, in plain Python floats, straight from the module docstring's equations."""
    hidden = len(v_f)
    c = [0.0] * hidden
    states = []
    for x in xs:
        wx, fx, rx = matvec(w, x), matvec(w_f, x), matvec(w_r, x)
        x_high = x if w_p is None else matvec(w_p, x)
        f = [sigmoid(fx[k] + v_f[k] * c[k] + b_f[k]) for k in range(hidden)]
        r = [sigmoid(rx[k] + v_r[k] * c[k] + b_r[k]) for k in range(hidden)]  # c is still c_{t-1}
        c = [f[k] * c[k] + (1 - f[k]) * wx[k] for k in range(hidden)]
        h = [r[k] * c[k] + (1 - r[k]) * x_high[k] for k in range(hidden)]
        states.append((c, h))
    return states


W = [[0.1, -0.2, 0.3], [0.3, 0.4, -0.1]]
W_F = [[0.5, 0.1, -0.2], [-0.3, 0.2, 0.6]]
W_R = [[0.2, -0.1, 0.4], [0.4, 0.3, -0.5]]
V_F, V_R = [0.6, -0.5], [-0.4, 0.7]
B_F, B_R = [0.1, -0.2], [0.3, 0.05]
W_P = [[0.7, -0.3, 0.2], [0.1, 0.5, -0.6]]


@pytest.mark.parametrize("input_size", [2, 3])
def test_two_steps_match_hand_computation(input_size: int) -> None:
    hidden = 2
    cut = tuple([row[:input_size] for row in m] for m in (W, W_F, W_R))
    w_p = None if input_size == hidden else W_P
    xs = [[1.0, -2.0, 0.5][:input_size], [0.5, 1.5, -1.0][:input_size]]
    layer = SRU(input_size, hidden)
    assert (layer.projection is None) == (input_size == hidden)
    with torch.no_grad():
        layer.linear.weight.copy_(torch.tensor(cut[0] + cut[1] + cut[2]))
        for parameter, value in ((layer.v_f, V_F), (layer.v_r, V_R), (layer.b_f, B_F), (layer.b_r, B_R)):
            parameter.copy_(torch.tensor(value))
        if w_p is not None:
            layer.projection.weight.copy_(torch.tensor(w_p))
    (c1, h1), (c2, h2) = hand_sru(xs, *cut, V_F, V_R, B_F, B_R, w_p)
    assert c1 != c2 and h1 != h2  # the second step really depends on the first
    out = layer(torch.tensor([xs]), torch.ones(1, 2, dtype=torch.bool))
    assert out.shape == (1, 2, hidden)
    torch.testing.assert_close(out[0], torch.tensor([h1, h2]), rtol=0, atol=1e-6)


def garbage_batch(long: torch.Tensor, short: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """[2, len(long), d]: ``long`` then ``short`` followed by huge random values, an inf and a NaN."""
    x = 1e6 * torch.randn(2, *long.shape, generator=generator)
    x[0], x[1, : len(short)] = long, short
    x[1, -1, 0], x[1, -1, 1] = math.inf, math.nan
    return x


@pytest.mark.parametrize("bidirectional", [False, True])
def test_padding_does_not_change_real_outputs(bidirectional: bool) -> None:
    torch.manual_seed(0)
    d, h = 4, 3
    layer = Bidirectional(SRU(d, h), SRU(d, h)) if bidirectional else SRU(d, h)
    generator = torch.Generator().manual_seed(1)
    long, short = torch.randn(6, d, generator=generator), torch.randn(3, d, generator=generator)
    x = garbage_batch(long, short, generator)
    mask = torch.tensor([[True] * 6, [True] * 3 + [False] * 3])
    with torch.no_grad():
        batch = layer(x, mask)
        alone_short = layer(short[None], torch.ones(1, 3, dtype=torch.bool))
        alone_long = layer(long[None], torch.ones(1, 6, dtype=torch.bool))
    torch.testing.assert_close(batch[1, :3], alone_short[0], rtol=0, atol=1e-6)
    torch.testing.assert_close(batch[0], alone_long[0], rtol=0, atol=1e-6)
    assert torch.isfinite(batch).all()
    assert (batch[1, 3:] == 0).all()  # padded outputs are zero, like pad_packed_sequence
    if bidirectional:  # the garbage would reach real words right to left if the mask were ignored
        with torch.no_grad():
            unmasked = layer(x.nan_to_num(posinf=1e6), torch.ones(2, 6, dtype=torch.bool))
        assert not torch.allclose(unmasked[1, :3], alone_short[0], atol=1e-3)


def test_gradcheck_inputs_and_parameters_and_zero_gradient_at_padding() -> None:
    torch.manual_seed(0)
    layer = SRU(3, 2).double()
    names = [name for name, _ in layer.named_parameters()]
    assert sorted(names) == ["b_f", "b_r", "linear.weight", "projection.weight", "v_f", "v_r"]
    parameters = [p.detach().clone().requires_grad_(True) for _, p in layer.named_parameters()]
    mask = torch.tensor([[True] * 4, [True, True, False, False]])
    x = torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)

    def run(x: torch.Tensor, *params: torch.Tensor) -> torch.Tensor:
        return functional_call(layer, dict(zip(names, params, strict=True)), (x, mask))

    assert torch.autograd.gradcheck(run, (x, *parameters), eps=1e-6, atol=1e-6)

    garbage = x.detach().clone()
    garbage[1, 2:] = 1e6 * torch.randn(2, 3, dtype=torch.float64)
    garbage[1, 3, 0] = math.nan
    garbage.requires_grad_(True)
    weights = torch.randn(2, 4, 2, dtype=torch.float64)
    (run(garbage, *parameters) * weights).sum().backward()
    assert (garbage.grad[1, 2:] == 0).all()
    assert (garbage.grad[1, :2] != 0).all() and (garbage.grad[0] != 0).all()
    for parameter in parameters:
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all()
        assert (parameter.grad != 0).any()


@pytest.mark.parametrize(("input_size", "hidden"), [(4, 4), (5, 3)])
def test_shapes_and_output_size(input_size: int, hidden: int) -> None:
    layer = SRU(input_size, hidden)
    assert layer.output_size == hidden
    mask = torch.tensor([[True] * 7, [True] * 2 + [False] * 5, [True] * 5 + [False] * 2])
    x = torch.randn(3, 7, input_size)
    assert layer(x, mask).shape == (3, 7, hidden)
    both = Bidirectional(SRU(input_size, hidden), SRU(input_size, hidden))
    assert both.output_size == 2 * hidden
    assert both(x, mask).shape == (3, 7, 2 * hidden)


def test_deterministic() -> None:
    torch.manual_seed(0)
    layer = SRU(3, 2)
    x, mask = torch.randn(2, 5, 3), torch.tensor([[True] * 5, [True] * 2 + [False] * 3])
    assert torch.equal(layer(x, mask), layer(x, mask))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu() -> None:
    torch.manual_seed(0)
    layer = SRU(3, 2)
    x, mask = torch.randn(2, 5, 3), torch.tensor([[True] * 5, [True] * 2 + [False] * 3])
    expected = layer(x, mask)
    got = layer.cuda()(x.cuda(), mask.cuda())
    assert got.device.type == "cuda"
    torch.testing.assert_close(got.cpu(), expected, rtol=1e-5, atol=1e-5)
