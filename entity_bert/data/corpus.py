"""The data model shared by every reader, split and model: sentences of tokens.

A :class:`Sentence` is a list of tokens with their IOB2 tags and, for each
token, its character offsets ``(start, end)`` in its source file, so that
``source_text[start:end] == token`` always holds. For standoff corpora the
source is the document's ``.txt``; for CoNLL-style TSV corpora it is the
``.tsv`` file itself (those files do not record documents).

Processed splits are JSON Lines, one sentence a line, keys sorted, so that the
same input and seed give byte-identical files.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Sentence:
    """One sentence: tokens, IOB2 tags and character offsets in ``source``."""

    tokens: list[str]
    tags: list[str]
    offsets: list[tuple[int, int]]
    source: str
    doc: str | None = None

    def inline(self) -> str:
        """The sentence as text with ``token/TAG`` for tagged tokens (for reading)."""
        pairs = zip(self.tokens, self.tags, strict=True)
        return " ".join(token if tag == "O" else f"{token}/{tag}" for token, tag in pairs)

    def to_json(self) -> str:
        record = {  # what dataclasses.asdict gives, without its deep copy (the slow part of prepare)
            "tokens": self.tokens,
            "tags": self.tags,
            "offsets": [list(pair) for pair in self.offsets],
            "source": self.source,
            "doc": self.doc,
        }
        return json.dumps(record, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, line: str) -> Sentence:
        record = json.loads(line)
        record["offsets"] = [tuple(pair) for pair in record["offsets"]]
        return cls(**record)


@dataclass
class Entity:
    """A standoff entity: its id, type and one or more character fragments."""

    id: str
    type: str
    fragments: list[tuple[int, int]]
    line: int

    @property
    def start(self) -> int:
        return self.fragments[0][0]

    @property
    def end(self) -> int:
        return self.fragments[-1][1]


@dataclass
class Document:
    """A standoff document: its text and its entities."""

    id: str
    source: str
    text: str
    entities: list[Entity] = field(default_factory=list)
    notes: Counter = field(default_factory=Counter)  # tolerated quirks of the source


def write_jsonl(sentences: Iterable[Sentence]) -> str:
    """The JSON Lines text of ``sentences``."""
    return "".join(sentence.to_json() + "\n" for sentence in sentences)


def read_jsonl(path: str | Path) -> list[Sentence]:
    """Sentences from a processed split file."""
    with open(path, encoding="utf-8") as handle:
        return [Sentence.from_json(line) for line in handle if line.strip()]
