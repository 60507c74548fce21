"""Recurrent sequence bodies over padded batches, chosen by name.

Cells: ``lstm`` and ``gru`` (PyTorch's), ``sru`` (Lei et al. 2018),
``indrnn`` (Li et al. 2018) and ``gfrnn`` (Chung et al. 2015), the last three
our own modules (``sru.py``, ``indrnn.py``, ``gfrnn.py``, each stating its
equations); :func:`recurrent_layer` builds any of them, bidirectional or not.

:class:`RecurrentBody` runs a bidirectional (or left-to-right) recurrent
layer over word vectors ``[B, W, D]`` with a mask ``[B, W]`` (real words
first, padding after). Padding never changes the states of real words:
PyTorch's LSTM and GRU read packed sequences; our own layers scan left to
right (padding comes after every real word, so it cannot reach them) and
their right-to-left direction reads each sentence reversed within its own
length (:func:`reverse_padded`).

The LSTM is PyTorch's ``nn.LSTM`` (the paper's Eq. 4-8):

    i_t = sigmoid(W_xi x_t + W_hi h_{t-1} + b_i)          (4)
    f_t = sigmoid(W_xf x_t + W_hf h_{t-1} + b_f)          (5)
    o_t = sigmoid(W_xo x_t + W_ho h_{t-1} + b_o)          (6)
    c_t = f_t * c_{t-1} + i_t * tanh(W_xc x_t + W_hc h_{t-1} + b_c)   (7)
    h_t = o_t * tanh(c_t)                                  (8)

Bidirectional: h_t = [h_t(left to right); h_t(right to left)].
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from entity_bert.models.gfrnn import GatedFeedbackRNN
from entity_bert.models.indrnn import IndRNN
from entity_bert.models.sru import SRU

# One entry per cell. PyTorch's own read packed sequences in both directions;
# ours are ``layer(input_size, hidden)`` modules that scan left to right over
# [B, W, D] with a mask, made bidirectional by :class:`Bidirectional`.
PACKED_CELLS = {"lstm": nn.LSTM, "gru": nn.GRU}
OWN_CELLS: dict[str, type[nn.Module]] = {"sru": SRU, "indrnn": IndRNN, "gfrnn": GatedFeedbackRNN}
CELLS = (*PACKED_CELLS, *OWN_CELLS)


def reverse_padded(x: Tensor, lengths: Tensor) -> Tensor:
    """Reverse each row's first ``lengths[b]`` positions of ``x`` [B, W, ...]; padding stays in place."""
    width = x.shape[1]
    positions = torch.arange(width, device=x.device).unsqueeze(0)  # [1, W]
    lengths = lengths.to(x.device).unsqueeze(1)  # [B, 1]
    index = torch.where(positions < lengths, lengths - 1 - positions, positions)  # [B, W]
    return x.gather(1, index.view(*index.shape, *([1] * (x.dim() - 2))).expand_as(x))


class Bidirectional(nn.Module):
    """Two left-to-right layers, one reading each sentence reversed; outputs concatenated."""

    def __init__(self, forward_layer: nn.Module, backward_layer: nn.Module) -> None:
        super().__init__()
        self.forward_layer, self.backward_layer = forward_layer, backward_layer
        self.output_size = forward_layer.output_size + backward_layer.output_size

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        lengths = mask.sum(dim=1)
        ahead = self.forward_layer(x, mask)
        behind = reverse_padded(self.backward_layer(reverse_padded(x, lengths), mask), lengths)
        return torch.cat([ahead, behind], dim=-1)


class RecurrentBody(nn.Module):
    """A recurrent layer over a padded batch; output size ``hidden * directions``."""

    def __init__(self, input_size: int, hidden: int, bidirectional: bool = True, cell: str = "lstm") -> None:
        super().__init__()
        if cell not in PACKED_CELLS:
            raise ValueError(f"unknown recurrent cell {cell!r} (known: {', '.join(PACKED_CELLS)})")
        self.rnn = PACKED_CELLS[cell](input_size, hidden, batch_first=True, bidirectional=bidirectional)
        self.output_size = hidden * (2 if bidirectional else 1)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        lengths = mask.sum(dim=1).cpu()
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        output, _ = self.rnn(packed)
        output, _ = pad_packed_sequence(output, batch_first=True, total_length=x.shape[1])
        return output


def recurrent_layer(cell: str, input_size: int, hidden: int, bidirectional: bool = True) -> nn.Module:
    """The recurrent layer named ``cell`` (one of :data:`CELLS`), over padded batches."""
    if cell in PACKED_CELLS:
        return RecurrentBody(input_size, hidden, bidirectional, cell)
    if cell not in OWN_CELLS:
        raise ValueError(f"unknown recurrent cell {cell!r} (known: {', '.join(CELLS)})")
    layer = OWN_CELLS[cell]
    if not bidirectional:
        return layer(input_size, hidden)
    return Bidirectional(layer(input_size, hidden), layer(input_size, hidden))
