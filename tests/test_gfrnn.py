"""Tests of the Gated Feedback GRU (entity_bert.models.gfrnn)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.autograd import gradcheck
from torch.func import functional_call

from entity_bert.models.gfrnn import GatedFeedbackRNN
from entity_bert.models.recurrent import Bidirectional


def sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


# Hand-set weights of a GF-GRU with input_size=1, hidden=1, layers=2 (all distinct, small).
# Per layer j: W_z, b_z, U_z, W_r, b_r, U_r, W, b, U = [U^{1->j}, U^{2->j}],
# w_g = [w_g^{1->j}, w_g^{2->j}], b_g = [b_g^{1->j}, b_g^{2->j}], u_g[i] = u_g^{i->j} (over [h^1; h^2]).
HAND = {
    1: {"Wz": 0.5, "bz": 0.1, "Uz": -0.3, "Wr": 0.7, "br": -0.2, "Ur": 0.4, "W": 0.9, "b": 0.05,
        "U": [0.6, -0.8], "wg": [0.3, -0.4], "bg": [0.2, 0.1], "ug": [[0.5, -0.6], [0.7, 0.9]]},
    2: {"Wz": -0.45, "bz": 0.3, "Uz": 0.25, "Wr": 0.35, "br": 0.15, "Ur": -0.55, "W": 1.1, "b": -0.1,
        "U": [-0.7, 0.65], "wg": [-0.25, 0.45], "bg": [-0.15, 0.35], "ug": [[-0.4, 0.8], [0.6, -0.5]]},
}  # fmt: skip


def set_hand_weights(rnn: GatedFeedbackRNN) -> None:
    """Copy HAND into the layer; checks that every parameter was set."""
    done = set()
    with torch.no_grad():
        for j, layer in enumerate(rnn.layers, start=1):
            p = HAND[j]
            values = {
                layer.update_in.weight: [[p["Wz"]]], layer.update_in.bias: [p["bz"]],
                layer.update_rec.weight: [[p["Uz"]]],
                layer.reset_in.weight: [[p["Wr"]]], layer.reset_in.bias: [p["br"]],
                layer.reset_rec.weight: [[p["Ur"]]],
                layer.candidate_in.weight: [[p["W"]]], layer.candidate_in.bias: [p["b"]],
                layer.feedback.weight: [p["U"]],
                layer.gate_in.weight: [[w] for w in p["wg"]], layer.gate_in.bias: p["bg"],
                layer.gate_rec.weight: p["ug"],
            }  # fmt: skip
            for param, value in values.items():
                param.copy_(torch.tensor(value, dtype=param.dtype))
                done.add(id(param))
    assert done == {id(param) for param in rnn.parameters()}


def hand_unit(p: dict, below: float, own: float, h_star: list[float], use_global_reset: bool = True) -> float:
    """One GF-GRU unit (hidden=1) from the equations, with plain floats: returns h^j_t."""
    g = [1.0, 1.0]  # g^{1->j}, g^{2->j}; all 1 switches the global reset off (for a contrast only)
    if use_global_reset:
        g = [
            sigmoid(p["wg"][i] * below + p["ug"][i][0] * h_star[0] + p["ug"][i][1] * h_star[1] + p["bg"][i])
            for i in range(2)
        ]
    z = sigmoid(p["Wz"] * below + p["Uz"] * own + p["bz"])
    r = sigmoid(p["Wr"] * below + p["Ur"] * own + p["br"])
    feedback = g[0] * p["U"][0] * h_star[0] + g[1] * p["U"][1] * h_star[1]
    candidate = math.tanh(p["W"] * below + p["b"] + r * feedback)
    return (1 - z) * own + z * candidate


def hand_run(xs: list[float], use_global_reset: bool = True) -> list[float]:
    """Top-layer outputs over xs, every step written out: two layers, bottom-up, h^0_t = x_t."""
    h1, h2 = 0.0, 0.0  # initial states
    outputs = []
    for x in xs:
        h_star = [h1, h2]  # h*_{t-1}
        new_h1 = hand_unit(HAND[1], x, h1, h_star, use_global_reset)  # layer 1 reads x_t
        new_h2 = hand_unit(HAND[2], new_h1, h2, h_star, use_global_reset)  # layer 2 reads h^1_t
        h1, h2 = new_h1, new_h2
        outputs.append(h2)
    return outputs


def test_two_steps_match_hand_computation() -> None:
    rnn = GatedFeedbackRNN(1, 1, layers=2).double()
    set_hand_weights(rnn)
    xs = [0.8, -1.3]
    expected = hand_run(xs)
    out = rnn(torch.tensor([[[xs[0]], [xs[1]]]], dtype=torch.float64), torch.ones(1, 2, dtype=torch.bool))
    assert out.shape == (1, 2, 1)
    assert out[0, :, 0].tolist() == pytest.approx(expected, abs=1e-6)
    # The t=2 value really depends on the global reset gates (previous states are non-zero) ...
    assert abs(hand_run(xs, use_global_reset=False)[1] - expected[1]) > 1e-3
    # ... and on the top-down feedback U^{2->1} h^2_{t-1} into layer 1.
    with torch.no_grad():
        rnn.layers[0].feedback.weight[0, 1] = 0.0
    changed = rnn(torch.tensor([[[xs[0]], [xs[1]]]], dtype=torch.float64), torch.ones(1, 2, dtype=torch.bool))
    assert changed[0, 0, 0].item() == pytest.approx(expected[0], abs=1e-12)  # t=1: states were 0
    assert abs(changed[0, 1, 0].item() - expected[1]) > 1e-3


def padded_pair(d: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """A 3-word and a 5-word sentence, and both in one batch with garbage in the padding."""
    short, long = torch.randn(1, 3, d), torch.randn(1, 5, d)
    garbage = 1e4 * torch.randn(1, 2, d)
    garbage[0, 1, 0] = float("nan")
    batch = torch.cat([torch.cat([short, garbage], dim=1), long])
    mask = torch.tensor([[True] * 3 + [False] * 2, [True] * 5])
    return short, long, batch, mask


@pytest.mark.parametrize("bidirectional", [False, True])
def test_padding_does_not_change_real_outputs(bidirectional: bool) -> None:
    torch.manual_seed(0)
    d, h = 3, 4
    model = (
        Bidirectional(GatedFeedbackRNN(d, h), GatedFeedbackRNN(d, h))
        if bidirectional
        else GatedFeedbackRNN(d, h)
    )
    short, long, batch, mask = padded_pair(d)
    out = model(batch, mask)
    alone_short = model(short, torch.ones(1, 3, dtype=torch.bool))
    alone_long = model(long, torch.ones(1, 5, dtype=torch.bool))
    torch.testing.assert_close(out[0, :3], alone_short[0], atol=1e-6, rtol=0)
    torch.testing.assert_close(out[1], alone_long[0], atol=1e-6, rtol=0)
    assert torch.isfinite(out).all()
    if not bidirectional:
        assert (out[0, 3:] == 0).all()  # padded outputs are zeroed


def test_gradcheck_and_zero_gradient_at_padding() -> None:
    torch.manual_seed(1)
    rnn = GatedFeedbackRNN(2, 2, layers=2).double()
    mask = torch.tensor([[True, True, True], [True, True, False]])
    x = torch.randn(2, 3, 2, dtype=torch.float64, requires_grad=True)
    names = [name for name, _ in rnn.named_parameters()]
    params = tuple(p.detach().clone().requires_grad_() for p in rnn.parameters())
    assert len(names) == 24  # 12 parameter tensors (weights and biases) per layer

    def run(x: torch.Tensor, *params: torch.Tensor) -> torch.Tensor:
        return functional_call(rnn, dict(zip(names, params, strict=True)), (x, mask))

    assert gradcheck(run, (x, *params), eps=1e-6, atol=1e-6, rtol=1e-4)

    garbage = x.detach().clone()
    garbage[1, 2] = torch.tensor([1e4, float("nan")])  # garbage in the padded position
    garbage.requires_grad_()
    rnn(garbage, mask).pow(2).sum().backward()
    assert garbage.grad is not None
    assert (garbage.grad[1, 2] == 0).all()  # exactly zero, not NaN
    assert torch.isfinite(garbage.grad).all()
    assert (garbage.grad[0] != 0).all() and (garbage.grad[1, :2] != 0).all()


def test_shapes_output_size_and_one_layer() -> None:
    torch.manual_seed(2)
    x, mask = torch.randn(3, 4, 5), torch.tensor([[True] * 4, [True] * 2 + [False] * 2, [True] + [False] * 3])
    for layers in (1, 2, 3):
        rnn = GatedFeedbackRNN(5, 7, layers=layers)
        assert rnn.output_size == 7 and len(rnn.layers) == layers
        out = rnn(x, mask)
        assert out.shape == (3, 4, 7) and torch.isfinite(out).all()
    both = Bidirectional(GatedFeedbackRNN(5, 7), GatedFeedbackRNN(5, 7))
    assert both.output_size == 14
    assert both(x, mask).shape == (3, 4, 14)
    with pytest.raises(ValueError):
        GatedFeedbackRNN(5, 7, layers=0)


def test_one_layer_with_open_global_reset_is_a_gru() -> None:
    """layers=1 with g = 1 is the paper's GRU: torch.nn.GRU with z replaced by 1 - z."""
    torch.manual_seed(3)
    d, h = 3, 4
    rnn = GatedFeedbackRNN(d, h, layers=1).double()
    layer = rnn.layers[0]
    gru = nn.GRU(d, h, batch_first=True).double()
    with torch.no_grad():
        layer.gate_in.weight.zero_()
        layer.gate_in.bias.fill_(40.0)  # sigmoid(40) == 1.0 in float64
        layer.gate_rec.weight.zero_()
        # torch.nn.GRU rows: reset, update, new; its update gate is 1 - ours.
        gru.weight_ih_l0.copy_(
            torch.cat([layer.reset_in.weight, -layer.update_in.weight, layer.candidate_in.weight])
        )
        gru.bias_ih_l0.copy_(torch.cat([layer.reset_in.bias, -layer.update_in.bias, layer.candidate_in.bias]))
        gru.weight_hh_l0.copy_(
            torch.cat([layer.reset_rec.weight, -layer.update_rec.weight, layer.feedback.weight])
        )
        gru.bias_hh_l0.zero_()
    x = torch.randn(2, 5, d, dtype=torch.float64)
    expected, _ = gru(x)
    torch.testing.assert_close(rnn(x, torch.ones(2, 5, dtype=torch.bool)), expected, atol=1e-10, rtol=0)
