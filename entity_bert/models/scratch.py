"""Inputs and bodies of the baselines trained from scratch (no pretrained weights).

The paper's LSTM-CRF, BiLSTM-CRF and Transformer-CRF rows (section 1) are
classic neural taggers; no pretrained word vectors can be had offline here,
so their embeddings are learnt from the training split.

- :class:`ScratchSource`: a word embedding (lower-cased words of the training
  split; others share ``<unk>``) and, optionally, character features from a
  CNN with max-pooling over each word's characters (Ma and Hovy 2016), which
  keep case, shape and affixes: x_i = [E_w(w_i); max_k relu(CNN(E_c(chars_i)))_k].
- :class:`TransformerBody`: a Transformer encoder (Vaswani et al. 2017) over
  x_i plus sinusoidal positions, padding masked out of self-attention.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from entity_bert.models.batching import Vocabulary


class ScratchSource(nn.Module):
    """Word embeddings, optionally with character-CNN features."""

    def __init__(
        self,
        vocabulary: Vocabulary,
        word_dim: int = 100,
        char_dim: int = 30,
        char_filters: int = 50,
        use_chars: bool = True,
    ) -> None:
        super().__init__()
        self.words = nn.Embedding(len(vocabulary.words), word_dim, padding_idx=Vocabulary.PAD)
        self.use_chars = use_chars
        self.output_size = word_dim
        if use_chars:
            self.chars = nn.Embedding(len(vocabulary.chars), char_dim, padding_idx=Vocabulary.PAD)
            self.char_cnn = nn.Conv1d(char_dim, char_filters, kernel_size=3, padding=1)
            self.output_size += char_filters

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        x = self.words(batch["word_ids"])
        if not self.use_chars:
            return x
        ids = batch["char_ids"]  # [B, W, C]
        chars = self.chars(ids.flatten(0, 1)).transpose(1, 2)  # [B*W, char_dim, C]
        conv = torch.relu(self.char_cnn(chars)).masked_fill((ids.flatten(0, 1) == 0).unsqueeze(1), 0.0)
        pooled = conv.max(dim=2).values.view(*ids.shape[:2], -1)
        return torch.cat([x, pooled], dim=-1)


def sinusoidal_positions(length: int, size: int, device: torch.device) -> Tensor:
    """The Transformer's fixed position encodings, [length, size]."""
    position = torch.arange(length, device=device, dtype=torch.float).unsqueeze(1)
    rate = torch.exp(torch.arange(0, size, 2, device=device, dtype=torch.float) * (-math.log(10000.0) / size))
    encoding = torch.zeros(length, size, device=device)
    encoding[:, 0::2] = torch.sin(position * rate)
    encoding[:, 1::2] = torch.cos(position * rate[: size // 2])
    return encoding


class TransformerBody(nn.Module):
    """A Transformer encoder trained from scratch, over a padded batch."""

    def __init__(
        self, input_size: int, size: int = 128, layers: int = 2, heads: int = 4, dropout: float = 0.1
    ) -> None:
        super().__init__()
        self.project = nn.Linear(input_size, size)
        layer = nn.TransformerEncoderLayer(size, heads, 2 * size, dropout, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.output_size = size

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        x = self.project(x)
        x = x + sinusoidal_positions(x.shape[1], x.shape[2], x.device)
        return self.encoder(x, src_key_padding_mask=~mask)
