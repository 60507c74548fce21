"""The IOB2 tagging scheme: tags, their validity, and spans <-> tags.

A tag is ``O``, ``B-TYPE`` (first token of an entity) or ``I-TYPE`` (a later
token of the same entity). An ``I-X`` that follows ``O`` or a tag of another
type is invalid in IOB2. Our repair policy, the one conlleval and seqeval's
default mode apply when they read such a tag, is to start a new entity there:
the ``I-X`` becomes ``B-X``. Every repair is counted and reported; readers
reject instead when asked to be strict.
"""

from __future__ import annotations

import re

from seqeval.scheme import IOB2, Entities

TAG_PATTERN = re.compile(r"^(?:O|[BI]-\S+)$")
# How a model's per-word scores become tags (models/decoding.py): the most probable
# valid IOB2 sequence, or each word's best tag. Runs are scored under both; the first
# is the default of the study's tables, the recogniser and `entity-bert predict`.
DECODINGS = ("constrained", "argmax")


def is_tag(tag: str) -> bool:
    """Whether ``tag`` is well formed (``O``, ``B-X`` or ``I-X``, X without spaces)."""
    return bool(TAG_PATTERN.fullmatch(tag))


def entity_type(tag: str) -> str | None:
    """The entity type of a ``B-``/``I-`` tag; ``None`` for ``O``."""
    return None if tag == "O" else tag[2:]


def continues(previous: str, tag: str) -> bool:
    """Whether ``I-`` tag ``tag`` may follow ``previous`` in IOB2."""
    return previous != "O" and previous[2:] == tag[2:]


def invalid_positions(tags: list[str]) -> list[int]:
    """Indexes of ``I-X`` tags that do not continue an entity of type X."""
    previous = "O"
    bad = []
    for i, tag in enumerate(tags):
        if tag.startswith("I-") and not continues(previous, tag):
            bad.append(i)
        previous = tag
    return bad


def repair(tags: list[str]) -> tuple[list[str], int]:
    """Turn each invalid ``I-X`` into ``B-X``; return the tags and the count."""
    fixed = list(tags)
    bad = invalid_positions(tags)
    for i in bad:
        fixed[i] = "B-" + tags[i][2:]
    return fixed, len(bad)


def tags_to_spans(tags: list[str]) -> list[tuple[int, int, str]]:
    """Entities of a valid IOB2 sequence as ``(first, end, type)`` token ranges."""
    spans: list[tuple[int, int, str]] = []
    for i, tag in enumerate(tags):
        if tag.startswith("B-"):
            spans.append((i, i + 1, tag[2:]))
        elif tag.startswith("I-") and spans and spans[-1][1] == i and spans[-1][2] == tag[2:]:
            spans[-1] = (spans[-1][0], i + 1, tag[2:])
    return spans


def spans_to_tags(length: int, spans: list[tuple[int, int, str]]) -> list[str]:
    """IOB2 tags for ``length`` tokens from non-overlapping token ranges."""
    tags = ["O"] * length
    for first, end, kind in spans:
        if any(tag != "O" for tag in tags[first:end]):
            raise ValueError(f"overlapping span {(first, end, kind)}")
        tags[first] = "B-" + kind
        for i in range(first + 1, end):
            tags[i] = "I-" + kind
    return tags


def tag_vocabulary(types: list[str]) -> list[str]:
    """The tags of a label set: ``O``, then ``B-T`` and ``I-T`` for each type in sorted order."""
    return ["O", *(f"{prefix}-{kind}" for kind in sorted(types) for prefix in "BI")]


def tag_types(tags: list[str]) -> list[str]:
    """The entity types of a tag vocabulary, in tag order (the inverse of :func:`tag_vocabulary`)."""
    return [tag[2:] for tag in tags if tag.startswith("B-")]


def allowed_start(tag: str) -> bool:
    """Whether ``tag`` may open a sentence (no ``I-`` there)."""
    return not tag.startswith("I-")


def allowed_transition(previous: str, tag: str) -> bool:
    """Whether ``tag`` may follow ``previous`` in IOB2."""
    return not tag.startswith("I-") or continues(previous, tag)


def entity_spans(offsets: list[tuple[int, int]], tags: list[str]) -> list[tuple[int, int, str, int, int]]:
    """Entities of one sentence's tags, as seqeval reads them in strict IOB2 mode.

    Each is ``(start, end, type, first word, word end)``: character offsets
    from ``offsets`` (one ``(start, end)`` per word) and the word range.
    """
    return [
        (offsets[e.start][0], offsets[e.end - 1][1], e.tag, e.start, e.end)
        for e in Entities([tags], IOB2, suffix=False).entities[0]
    ]
