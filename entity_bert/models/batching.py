"""From sentences to padded batches, for every kind of model input.

An :class:`Example` is one sentence ready for a model: its gold tag indexes
and one of three inputs, by model family:

- ``windows``: encoder windows of word pieces (:mod:`entity_bert.models.encoder`),
  for fine-tuning and for prediction with any encoder-based model;
- ``features``: cached encoder word features (the ``frozen`` regime);
- ``words``: word and character indexes (the baselines trained from scratch).

Batches are length-bucketed (Hugging Face's ``group_by_length`` idea): the
training order is shuffled, cut into pools of 50 batches, each pool sorted by
length and cut into batches, and the batches shuffled again, all by one
seeded ``torch.Generator``; padding is added per batch only up to its longest
sentence.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from entity_bert.data.corpus import Sentence
from entity_bert.models.encoder import EncodedSentence

IGNORE = -100  # label index of padding, ignored by the losses
POOL = 50  # batches per length-sorting pool


@dataclass
class Example:
    """One sentence: gold tag indexes and the input of one model family."""

    labels: list[int]
    encoded: EncodedSentence | None = None
    features: Tensor | None = None  # [words, hidden], the frozen regime's cache
    lower: list[Tensor] | None = None  # per window [pieces, hidden]: the top regime's cached lower states
    word_ids: list[int] | None = None
    char_ids: list[list[int]] | None = None

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def cost(self) -> int:
        """What padding is counted in: word pieces for encoder input, else words."""
        return sum(len(w) for w in self.encoded.windows) if self.encoded is not None else len(self.labels)


class Vocabulary:
    """Words (lower-cased) and characters of a training split, for models trained from scratch."""

    PAD, UNK = 0, 1

    def __init__(self, words: list[str], chars: list[str]) -> None:
        self.words = {w: i for i, w in enumerate(["<pad>", "<unk>", *words])}
        self.chars = {c: i for i, c in enumerate(["<pad>", "<unk>", *chars])}

    @classmethod
    def build(cls, sentences: list[Sentence], min_count: int = 1) -> Vocabulary:
        counts = Counter(t.lower() for s in sentences for t in s.tokens)
        chars = sorted({c for s in sentences for t in s.tokens for c in t})
        return cls(sorted(w for w, n in counts.items() if n >= min_count), chars)

    def word_ids(self, tokens: list[str]) -> list[int]:
        return [self.words.get(t.lower(), self.UNK) for t in tokens]

    def char_ids(self, tokens: list[str]) -> list[list[int]]:
        return [[self.chars.get(c, self.UNK) for c in t] for t in tokens]

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"words": list(self.words)[2:], "chars": list(self.chars)[2:]}))

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        content = json.loads(path.read_text())
        return cls(content["words"], content["chars"])


def length_batches(
    examples: list[Example], batch_size: int, generator: torch.Generator | None
) -> list[list[int]]:
    """Indexes cut into batches of similar cost; shuffled when a generator is given."""
    lengths = [e.cost for e in examples]
    order = list(range(len(lengths)))
    if generator is None:  # evaluation: longest first, no shuffling
        order.sort(key=lambda i: -lengths[i])
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    order = [order[i] for i in torch.randperm(len(order), generator=generator).tolist()]
    batches = []
    for start in range(0, len(order), batch_size * POOL):
        pool = sorted(order[start : start + batch_size * POOL], key=lambda i: lengths[i])
        batches += [pool[i : i + batch_size] for i in range(0, len(pool), batch_size)]
    return [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]


def pad(rows: list[list[int]], value: int) -> Tensor:
    """Rows of ints as one long tensor, right-padded with ``value`` to the longest."""
    width = max(len(r) for r in rows)
    return torch.tensor([r + [value] * (width - len(r)) for r in rows], dtype=torch.long)


def collate(examples: list[Example]) -> dict[str, Tensor]:
    """Pad a batch; the keys present depend on the examples' input kind."""
    labels = pad([e.labels for e in examples], IGNORE)
    batch = {"labels": labels, "mask": labels != IGNORE}
    first = examples[0]
    if first.features is not None:
        width, hidden = labels.shape[1], first.features.shape[1]
        features = torch.zeros(len(examples), width, hidden)
        for b, e in enumerate(examples):
            features[b, : len(e)] = e.features.float()
        batch["features"] = features
    elif first.encoded is not None:
        windows = [w for e in examples for w in e.encoded.windows]
        input_ids = pad(windows, 0)
        length = input_ids.shape[1]
        index, offset = [], 0
        for e in examples:
            index.append([(offset + k) * length + p for k, p in e.encoded.first_piece])
            offset += len(e.encoded.windows)
        batch.update(input_ids=input_ids, attention_mask=pad([[1] * len(w) for w in windows], 0))
        if first.lower is not None:  # the top regime: the fixed layers' states, cached
            states = [s for e in examples for s in e.lower]
            lower = torch.zeros(len(states), length, states[0].shape[1])
            for row, s in enumerate(states):
                lower[row, : len(s)] = s
            batch["lower_states"] = lower
        batch["word_index"] = pad(index, 0)
        batch["word_pieces"] = pad([e.encoded.piece_counts for e in examples], 0)  # a word's pieces
    else:
        batch["word_ids"] = pad([e.word_ids for e in examples], Vocabulary.PAD)
        longest = max(len(c) for e in examples for c in e.char_ids)
        char_ids = torch.zeros(*labels.shape, longest, dtype=torch.long)
        for b, e in enumerate(examples):
            for w, chars in enumerate(e.char_ids):
                char_ids[b, w, : len(chars)] = torch.tensor(chars)
        batch["char_ids"] = char_ids
    return batch
