"""The Simple Recurrent Unit (SRU), one left-to-right layer over a padded batch.

Lei, Zhang, Wang, Dai and Artzi (2018), "Simple Recurrent Units for Highly
Parallelizable Recurrence", EMNLP, section 2, with the highway connection.
As implemented here, for each time step t (``*`` is elementwise):

    f_t = sigmoid(W_f x_t + v_f * c_{t-1} + b_f)
    r_t = sigmoid(W_r x_t + v_r * c_{t-1} + b_r)
    c_t = f_t * c_{t-1} + (1 - f_t) * (W x_t)
    h_t = r_t * c_t + (1 - r_t) * x'_t

with c_0 = 0. ``v_f`` and ``v_r`` are vectors (the paper's point-wise
recurrent weights), so the recurrence is elementwise. ``x'_t = x_t`` when
``input_size == hidden``; otherwise ``x'_t = W_p x_t``, a linear projection
without bias. There is no bias on ``W x_t`` and no activation on ``c_t``.

The three products ``W x``, ``W_f x`` and ``W_r x`` come from one
``nn.Linear(input_size, 3 * hidden, bias=False)`` applied to every time step
at once (its output rows, in order: ``W``, ``W_f``, ``W_r``); only the cheap
elementwise recurrence loops over time.

Padding (``mask`` False; real words first, padding after) never influences
real positions: the scan runs left to right, padded inputs are replaced by
zeros before use (so non-finite garbage there cannot reach any value or
gradient), and outputs at padded positions are zero, as ``pad_packed_sequence``
gives for PyTorch's LSTM and GRU. For the right-to-left direction wrap two
layers in :class:`entity_bert.models.recurrent.Bidirectional`.

Initialisation follows the paper (section 3.2: weights with mean 0 and
variance 1/d) and the authors' release: gate rows ``W_f``, ``W_r`` and the
vectors ``v_f``, ``v_r`` (variance 1) scaled by sqrt(1/2), biases zero.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


class SRU(nn.Module):
    """One left-to-right SRU layer: ``[B, W, input_size]`` and mask ``[B, W]`` to ``[B, W, hidden]``."""

    def __init__(self, input_size: int, hidden: int) -> None:
        super().__init__()
        self.input_size, self.hidden = input_size, hidden
        self.output_size = hidden
        self.linear = nn.Linear(input_size, 3 * hidden, bias=False)  # rows: W, W_f, W_r
        self.v_f = nn.Parameter(torch.empty(hidden))
        self.v_r = nn.Parameter(torch.empty(hidden))
        self.b_f = nn.Parameter(torch.empty(hidden))
        self.b_r = nn.Parameter(torch.empty(hidden))
        self.projection = None if input_size == hidden else nn.Linear(input_size, hidden, bias=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Weights U(-sqrt(3/d), sqrt(3/d)) (variance 1/d), gates and v scaled by sqrt(1/2), biases 0."""
        bound = math.sqrt(3.0 / self.input_size)
        with torch.no_grad():
            self.linear.weight.uniform_(-bound, bound)
            self.linear.weight[self.hidden :].mul_(math.sqrt(0.5))
            for v in (self.v_f, self.v_r):
                v.uniform_(-math.sqrt(3.0), math.sqrt(3.0)).mul_(math.sqrt(0.5))
            self.b_f.zero_()
            self.b_r.zero_()
            if self.projection is not None:
                self.projection.weight.uniform_(-bound, bound)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        keep = mask.to(device=x.device, dtype=torch.bool).unsqueeze(-1)  # [B, W, 1]
        x = torch.where(keep, x, torch.zeros((), dtype=x.dtype, device=x.device))
        candidate, forget_in, reset_in = self.linear(x).chunk(3, dim=-1)  # each [B, W, H], all steps at once
        highway = x if self.projection is None else self.projection(x)
        c = x.new_zeros(x.shape[0], self.hidden)
        outputs = []
        for t in range(x.shape[1]):
            f = torch.sigmoid(forget_in[:, t] + self.v_f * c + self.b_f)
            r = torch.sigmoid(reset_in[:, t] + self.v_r * c + self.b_r)  # reads c_{t-1}
            c = f * c + (1 - f) * candidate[:, t]
            outputs.append(r * c + (1 - r) * highway[:, t])
        if not outputs:
            return x.new_zeros(x.shape[0], 0, self.hidden)
        h = torch.stack(outputs, dim=1)
        return torch.where(keep, h, torch.zeros((), dtype=h.dtype, device=h.device))

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden}"
