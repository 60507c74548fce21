"""What the span-based systems share: gold spans, candidate spans, flat decoding, spans back to IOB2.

MRC-NER (:mod:`.mrc`), biaffine (:mod:`.biaffine`) and template NER
(:mod:`.template`) score candidate spans ``(first, end, type)`` (word
indexes, ``end`` exclusive) instead of one tag per word. So that one
evaluation scores every system identically, their predictions are turned
back into IOB2 tag indexes here (:func:`spans_to_indexes`), then scored by
seqeval like every other model's tags.

Flat decoding (Yu, Bohnet and Poesio 2020, section 3.3): rank the candidate
spans by score, then keep each in turn unless it clashes with a span already
kept. For flat NER a clash is any overlap, so the result never nests.
"""

from __future__ import annotations

from collections.abc import Iterable

from entity_bert.data import iob2
from entity_bert.models.batching import IGNORE

Span = tuple[int, int, str]  # (first word, end word exclusive, type)


def gold_spans(labels: Iterable[int], tags: list[str]) -> list[Span]:
    """The entities of one row of tag indexes (padding, ``IGNORE``, ends the row)."""
    row = [tags[i] for i in labels if i != IGNORE]
    return iob2.tags_to_spans(row)


def candidate_spans(length: int, max_words: int) -> list[tuple[int, int]]:
    """Every ``(first, end)`` of at most ``max_words`` words in a sentence of ``length`` words."""
    return [
        (first, end)
        for first in range(length)
        for end in range(first + 1, min(first + max_words, length) + 1)
    ]


def decode_flat(scored: Iterable[tuple[float, Span]]) -> list[Span]:
    """Highest-scoring spans first, each kept unless it overlaps one kept before; in sentence order."""
    kept: list[Span] = []
    taken: set[int] = set()
    for _, span in sorted(scored, key=lambda item: (-item[0], item[1][0], item[1][1], item[1][2])):
        words = range(span[0], span[1])
        if taken.isdisjoint(words):
            kept.append(span)
            taken.update(words)
    return sorted(kept)


def spans_to_indexes(length: int, spans: list[Span], tags: list[str]) -> list[int]:
    """IOB2 tag indexes of ``length`` words from non-overlapping spans."""
    index = {tag: i for i, tag in enumerate(tags)}
    return [index[tag] for tag in iob2.spans_to_tags(length, spans)]
