"""Reader and validator of CoNLL-style TSV files in IOB2.

Format: one token a line as ``token<TAB>tag``, an empty line between
sentences, the last empty line optional. ``\\r\\n`` line ends are accepted.
Anything else (a line without exactly one tab, an empty token, a tag that is
not IOB2, a type outside the declared set, bytes that are not UTF-8, an empty
file) is an :class:`~entity_bert.core.errors.InputError` naming the line. A token
may not contain whitespace (CoNLL output separates columns by spaces).

An ``I-X`` that does not continue an ``X`` entity is repaired to ``B-X`` and
counted (see :mod:`entity_bert.data.iob2`); with ``strict=True`` it is an error.
Each token keeps its character offsets in the file's decoded text.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from entity_bert.core.errors import InputError
from entity_bert.core.fileio import read_utf8
from entity_bert.data import iob2
from entity_bert.data.corpus import Sentence


@dataclass
class TsvResult:
    """The sentences of a TSV file and the IOB2 repairs made in each."""

    sentences: list[Sentence]
    repairs_per_sentence: list[int]

    @property
    def repairs(self) -> int:
        return sum(self.repairs_per_sentence)


def _lines(text: str):
    """``(line_number, offset, line)`` with the line end removed."""
    offset = 0
    for number, raw in enumerate(text.split("\n"), start=1):
        yield number, offset, raw[:-1] if raw.endswith("\r") else raw
        offset += len(raw) + 1


def read_tsv(
    path: str | Path,
    source: str | None = None,
    entity_types: Collection[str] | None = None,
    strict: bool = False,
) -> TsvResult:
    """Read and validate one TSV file.

    ``source`` is the name recorded in each sentence (default: ``path``);
    ``entity_types``, when given, is the closed set of allowed types.
    """
    text = read_utf8(path)
    source = source or str(path)
    sentences: list[Sentence] = []
    repairs: list[int] = []
    tokens: list[str] = []
    tags: list[str] = []
    offsets: list[tuple[int, int]] = []
    first_line = 0

    def close_sentence() -> None:
        fixed, count = iob2.repair(tags)
        if count and strict:
            bad = iob2.invalid_positions(tags)[0]
            raise InputError(path, first_line + bad, f"'{tags[bad]}' does not continue an entity (IOB2)")
        repairs.append(count)
        sentences.append(Sentence(list(tokens), fixed, list(offsets), source))
        tokens.clear(), tags.clear(), offsets.clear()

    for number, offset, line in _lines(text):
        if line == "":
            if tokens:
                close_sentence()
            continue
        fields = line.split("\t")
        if len(fields) != 2:
            raise InputError(path, number, f"expected 'token<TAB>tag', got {len(fields)} field(s)")
        token, tag = fields
        if not token or any(c.isspace() for c in token):
            raise InputError(path, number, f"empty token, or whitespace in token {token!r}")
        if not iob2.is_tag(tag):
            raise InputError(path, number, f"tag {tag!r} is not IOB2 (O, B-TYPE or I-TYPE)")
        kind = iob2.entity_type(tag)
        if entity_types is not None and kind is not None and kind not in entity_types:
            raise InputError(
                path, number, f"unknown entity type {kind!r} (expected one of {sorted(entity_types)})"
            )
        if not tokens:
            first_line = number
        tokens.append(token)
        tags.append(tag)
        offsets.append((offset, offset + len(token)))
    if tokens:
        close_sentence()
    if not sentences:
        raise InputError(path, 1, "no sentences (only empty lines)")
    return TsvResult(sentences, repairs)
