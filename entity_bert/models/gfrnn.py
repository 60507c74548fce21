"""Gated Feedback GRU (GF-GRU): a stack of GRU layers fully connected across time steps.

Reference: J. Chung, C. Gulcehre, K. Cho and Y. Bengio, "Gated Feedback
Recurrent Neural Networks", ICML 2015 (arXiv:1502.02367), section 3: the
global reset gate (Eq. 11) and its GRU form, the GF-GRU candidate (Eq. 14).

A stack of L GRU layers in which every layer j at time t reads the previous
states of ALL layers, h*_{t-1} = [h^1_{t-1}; ...; h^L_{t-1}], each through its
own matrix U^{i->j} and scaled by a scalar global reset gate g^{i->j}_t (one
per layer pair and example). With h^0_t = x_t (the input as layer 0), layers
are computed bottom-up at each step (layer j reads h^{j-1}_t of the SAME step),
for j = 1..L and i = 1..L, as implemented here:

    g^{i->j}_t = sigmoid(w_g^{i->j} . h^{j-1}_t + u_g^{i->j} . h*_{t-1} + b_g^{i->j})      (11)
    z^j_t      = sigmoid(W_z^j h^{j-1}_t + U_z^j h^j_{t-1} + b_z^j)                          update gate
    r^j_t      = sigmoid(W_r^j h^{j-1}_t + U_r^j h^j_{t-1} + b_r^j)                          reset gate
    h~^j_t     = tanh(W^j h^{j-1}_t + b^j + r^j_t * sum_i g^{i->j}_t U^{i->j} h^i_{t-1})      (14)
    h^j_t      = (1 - z^j_t) * h^j_{t-1} + z^j_t * h~^j_t

(* is elementwise.) The state update follows the paper's GRU convention
(section 2): z weights the NEW candidate and (1 - z) keeps the OLD state,
the opposite of ``torch.nn.GRU``. The local gates z and r read only the
layer's own previous state; the feedback from all layers enters only the
candidate, through the reset gate r^j_t. Biases: b_g, b_z, b_r and b (the
U matrices have none). Initial states are 0. The output is the top layer's
states h^L_t, [B, W, hidden].

The layer scans left to right only (:class:`~entity_bert.models.recurrent.Bidirectional`
makes it bidirectional). Padding (mask False, after the real words) never
reaches a real position: padded inputs are zeroed before the scan (so even
NaN there is harmless and their gradients are exactly 0), states only
advance at real positions, and outputs at padded positions are 0.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class GFGRULayer(nn.Module):
    """Parameters of one layer j of the GF-GRU, and its step (the equations above)."""

    def __init__(self, input_size: int, hidden: int, layers: int) -> None:
        super().__init__()
        self.hidden = hidden
        self.update_in = nn.Linear(input_size, hidden)  # W_z^j, b_z^j
        self.update_rec = nn.Linear(hidden, hidden, bias=False)  # U_z^j
        self.reset_in = nn.Linear(input_size, hidden)  # W_r^j, b_r^j
        self.reset_rec = nn.Linear(hidden, hidden, bias=False)  # U_r^j
        self.candidate_in = nn.Linear(input_size, hidden)  # W^j, b^j
        # [U^{1->j} ... U^{L->j}] side by side: feedback(gated h*) = sum_i U^{i->j} (g^{i->j} h^i)
        self.feedback = nn.Linear(layers * hidden, hidden, bias=False)
        self.gate_in = nn.Linear(input_size, layers)  # row i: w_g^{i->j}; bias b_g^{i->j}
        self.gate_rec = nn.Linear(layers * hidden, layers, bias=False)  # row i: u_g^{i->j}

    def forward(self, below: Tensor, previous: Tensor, previous_all: Tensor) -> Tensor:
        """h^{j-1}_t [B, in], h^j_{t-1} [B, H], h*_{t-1} [B, L*H] -> h^j_t [B, H]."""
        global_reset = torch.sigmoid(self.gate_in(below) + self.gate_rec(previous_all))  # [B, L]: g^{i->j}
        update = torch.sigmoid(self.update_in(below) + self.update_rec(previous))
        reset = torch.sigmoid(self.reset_in(below) + self.reset_rec(previous))
        gated = previous_all * global_reset.repeat_interleave(self.hidden, dim=1)  # g^{i->j} h^i_{t-1}
        candidate = torch.tanh(self.candidate_in(below) + reset * self.feedback(gated))
        return (1 - update) * previous + update * candidate


class GatedFeedbackRNN(nn.Module):
    """A left-to-right GF-GRU stack of ``layers`` layers of ``hidden`` units; outputs the top layer."""

    def __init__(self, input_size: int, hidden: int, layers: int = 2) -> None:
        super().__init__()
        if layers < 1:
            raise ValueError(f"a gated feedback RNN needs at least one layer, got {layers}")
        self.hidden = hidden
        self.layers = nn.ModuleList(
            GFGRULayer(input_size if j == 0 else hidden, hidden, layers) for j in range(layers)
        )
        self.output_size = hidden

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        """x [B, W, input_size], mask [B, W] (True = real word, real words first) -> [B, W, hidden]."""
        batch, width, _ = x.shape
        real = mask.to(device=x.device, dtype=torch.bool).unsqueeze(-1)  # [B, W, 1]
        x = x.masked_fill(~real, 0.0)
        states = [x.new_zeros(batch, self.hidden) for _ in self.layers]  # h^j_{t-1}, j = 1..L
        outputs = []
        for t in range(width):
            previous_all = torch.cat(states, dim=1)  # h*_{t-1}
            below, new_states = x[:, t], []  # h^0_t = x_t
            for layer, previous in zip(self.layers, states, strict=True):
                below = layer(below, previous, previous_all)
                new_states.append(below)
            states = [torch.where(real[:, t], new, old) for new, old in zip(new_states, states, strict=True)]
            outputs.append(states[-1])
        if not outputs:
            return x.new_zeros(batch, 0, self.hidden)
        return torch.stack(outputs, dim=1).masked_fill(~real, 0.0)
