"""Independently Recurrent Neural Network (IndRNN), one layer, left to right.

Li, Li, Cook, Zhu and Gao (2018), "Independently Recurrent Neural Network
(IndRNN): Building A Longer and Deeper RNN", CVPR (arXiv:1803.04831), Eq. 2:

    h_t = relu(W x_t + u * h_{t-1} + b),    h_0 = 0

``u`` is a vector (one recurrent weight per neuron) and ``*`` is elementwise,
so the neurons of a layer are independent of each other: neuron n sees only
its own previous state. ``W x_t + b`` is one :class:`torch.nn.Linear` applied
to every time step at once; only the elementwise recurrence loops over time.

Initialisation: ``W`` and ``b`` keep :class:`torch.nn.Linear`'s default; ``u``
is drawn uniformly from [0, 1] as in the paper's experiments.

Constraint: the gradient through time of neuron n is scaled by powers of
u_n, so the paper bounds |u_n| to keep it from exploding or vanishing
(section 3.1; e.g. |u_n| <= 2^(1/T) for ReLU and sequence length T). With
``max_recurrent`` given, forward uses ``u.clamp(-max_recurrent, max_recurrent)``
in place of ``u`` (the stored parameter is left as it is; its gradient is 0
where the clamp is active). ``max_recurrent=None`` (default) applies no bound.

Padding: a position whose mask is False neither updates the state (the state
is carried past it unchanged) nor is read (its input is replaced by 0, so its
gradient is exactly 0), and its output is 0. So padding can never reach the
outputs at real positions, wherever it sits; with real words first and
padding after, :class:`~entity_bert.models.recurrent.Bidirectional` makes a
bidirectional layer of two of these.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class IndRNN(nn.Module):
    """One left-to-right IndRNN layer: ``h_t = relu(W x_t + u * h_{t-1} + b)``; output size ``hidden``."""

    def __init__(self, input_size: int, hidden: int, max_recurrent: float | None = None) -> None:
        super().__init__()
        if max_recurrent is not None and not max_recurrent > 0:
            raise ValueError(f"max_recurrent must be positive or None, got {max_recurrent!r}")
        self.input = nn.Linear(input_size, hidden)  # W x_t + b
        self.recurrent = nn.Parameter(torch.empty(hidden))  # u
        nn.init.uniform_(self.recurrent, 0.0, 1.0)
        self.max_recurrent = max_recurrent
        self.output_size = hidden

    def recurrent_weight(self) -> Tensor:
        """The recurrent weights ``u`` as used in forward (clamped to ``max_recurrent`` if given)."""
        if self.max_recurrent is None:
            return self.recurrent
        return self.recurrent.clamp(-self.max_recurrent, self.max_recurrent)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        """States ``[B, W, hidden]`` of words ``x`` [B, W, input_size]; 0 where ``mask`` [B, W] is False."""
        mask = mask.to(device=x.device, dtype=torch.bool)
        keep = mask.unsqueeze(-1)  # [B, W, 1]
        projected = self.input(x.masked_fill(~keep, 0.0))  # [B, W, hidden]: W x_t + b, all steps at once
        u = self.recurrent_weight()
        state = projected.new_zeros(projected.shape[0], projected.shape[2])  # h_0 = 0
        states = []
        for t in range(projected.shape[1]):
            state = torch.where(keep[:, t], torch.relu(projected[:, t] + u * state), state)
            states.append(state)
        if not states:
            return projected
        return torch.stack(states, dim=1).masked_fill(~keep, 0.0)
