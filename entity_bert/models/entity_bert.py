"""Entity-BERT's body: BiLSTM over the encoder, cross-attention between the two, fusion.

Lu et al. (2023), section 3. For a sentence of n words, let e_j in R^{d_e} be
the encoder (BERT) state of word j, its first word piece (the paper's Eq. 1-3
describe BERT's own self-attention; we use BERT as it is). Then:

    h_i = BiLSTM(e_1..e_n)_i in R^{d_h}, d_h = 2 * hidden      Eq. 4-8, both directions
                                                     (the ablation swaps in GRU, SRU, IndRNN, GF-RNN)

Cross-attention between the LSTM states and the encoder states (the paper's
Eq. 9-11, written there for image and text, taken here for the two views of
the same sentence):

    s_ij = h_i^T W_a e_j / sqrt(d_h)                   Eq. 9 (bilinear), scaled as in Eq. 3
    a_ij = softmax_j(s_ij)                             Eq. 10, rows: LSTM word i reads the encoder
    b_ji = softmax_i(s_ij)                             Eq. 10, columns: encoder word j reads the LSTM
    c_i  = sum_j a_ij e_j                              Eq. 11, first term, per word
    g_j  = sum_i b_ji h_i                              Eq. 11, second term, per word
    v_i  = W_c c_i + W_g g_i                           Eq. 11's sum of the two directions

Fusion and classification ("the output vectors of the LSTM model and the BERT
model can be concatenated, and the cross-attention mechanism can be used to
weight them", section 3.1, step 4):

    z_i = tanh(W_z [e_i; h_i] + v_i + b_z)             in R^{d_h}
    emissions_i = W_o dropout(z_i) + b_o               then softmax (the paper) or a CRF

Where the paper is ambiguous, and what we chose:
- Eq. 11 sums over all positions into one vector V in R^d, which cannot tag
  words; we keep one cross-attention vector per word (standard cross-attention).
- The paper does not say how the two attention directions or the fusion are
  combined; we add the two directions (as Eq. 11 adds its two terms) and fuse
  them with the concatenated BERT and LSTM states through one tanh layer.
- Padding positions are masked out of both softmaxes.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from entity_bert.models.recurrent import recurrent_layer

NEG = -1e4  # score of masked positions (finite, so that gradients stay finite)


class EntityBertBody(nn.Module):
    """BiLSTM + two-way cross-attention + fusion over encoder word states."""

    def __init__(self, input_size: int, hidden: int = 128, cell: str = "lstm") -> None:
        super().__init__()
        self.recurrent = recurrent_layer(cell, input_size, hidden, bidirectional=True)
        size = self.recurrent.output_size
        self.bilinear = nn.Parameter(torch.empty(size, input_size))  # W_a
        nn.init.xavier_uniform_(self.bilinear)
        self.read_encoder = nn.Linear(input_size, size, bias=False)  # W_c
        self.read_recurrent = nn.Linear(size, size, bias=False)  # W_g
        self.fuse = nn.Linear(input_size + size, size)  # W_z, b_z
        self.output_size = size
        self.attention: Tensor | None = None  # a_ij of the last batch, for inspection

    def forward(self, e: Tensor, mask: Tensor) -> Tensor:
        h = self.recurrent(e, mask)  # [B, n, d_h]
        scores = h @ self.bilinear @ e.transpose(1, 2) / math.sqrt(h.shape[-1])  # s_ij: [B, n, n]
        pair = mask.unsqueeze(2) & mask.unsqueeze(1)
        scores = scores.masked_fill(~pair, NEG)
        a = scores.softmax(dim=2)  # over encoder words j
        b = scores.softmax(dim=1)  # over LSTM words i
        c = a @ e  # c_i = sum_j a_ij e_j
        g = b.transpose(1, 2) @ h  # g_j = sum_i b_ji h_i
        v = self.read_encoder(c) + self.read_recurrent(g)
        self.attention = a.detach()
        return torch.tanh(self.fuse(torch.cat([e, h], dim=-1)) + v)
