"""Recurrent sequence bodies over padded batches.

:class:`RecurrentBody` runs a bidirectional (or left-to-right) recurrent
layer over word vectors ``[B, W, D]`` with a mask ``[B, W]``. Padded batches
are packed (``pack_padded_sequence``), so padding never changes the states of
real words. The LSTM is PyTorch's ``nn.LSTM`` (the paper's Eq. 4-8):

    i_t = sigmoid(W_xi x_t + W_hi h_{t-1} + b_i)          (4)
    f_t = sigmoid(W_xf x_t + W_hf h_{t-1} + b_f)          (5)
    o_t = sigmoid(W_xo x_t + W_ho h_{t-1} + b_o)          (6)
    c_t = f_t * c_{t-1} + i_t * tanh(W_xc x_t + W_hc h_{t-1} + b_c)   (7)
    h_t = o_t * tanh(c_t)                                  (8)

Bidirectional: h_t = [h_t(forward); h_t(backward)].
"""

from __future__ import annotations

from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

CELLS = {"lstm": nn.LSTM, "gru": nn.GRU}


class RecurrentBody(nn.Module):
    """A one-layer recurrent layer over a padded batch; output size ``hidden * directions``."""

    def __init__(self, input_size: int, hidden: int, bidirectional: bool = True, cell: str = "lstm") -> None:
        super().__init__()
        self.rnn = CELLS[cell](input_size, hidden, batch_first=True, bidirectional=bidirectional)
        self.output_size = hidden * (2 if bidirectional else 1)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        lengths = mask.sum(dim=1).cpu()
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        output, _ = self.rnn(packed)
        output, _ = pad_packed_sequence(output, batch_first=True, total_length=x.shape[1])
        return output
