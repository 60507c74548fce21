"""From annotated character spans to IOB2-tagged sentences, under named policies.

Standoff annotation is richer than flat IOB2, so converting it takes choices.
Each is named, applied in this order, and every case is counted in the
returned :class:`collections.Counter` (nothing is dropped silently):

1. **Label set.** A mapping sends source types to study types (for example
   MACCROBAT2020's ``Lab_value`` to the paper's ``Laboratory_test``); entities
   of unmapped types are left out and counted as ``not_in_label_set``. The
   identity mapping keeps every type.
2. **Discontinuous spans** (``10 20;25 30``), policy ``discontinuous``:
   ``extent`` (default) tags the whole extent from the first start to the last
   end; ``first_fragment`` tags the first fragment only; ``drop`` leaves the
   entity out. Counted as ``discontinuous`` and ``discontinuous_dropped``.
3. **Boundaries inside a token.** Tokenisation never looks at the annotation
   (so that the same tokens arise for raw text at prediction time); an entity
   whose start or end falls inside a token is widened to the whole tokens it
   touches. Counted as ``boundary_inside_token``.
4. **Nested and overlapping entities** (flat NER allows one entity per
   token): the longest entity in tokens wins, ties going to the earlier start,
   then the type and id; an entity inside a kept one is counted as
   ``nested_dropped``, one that crosses a kept one as ``overlapping_dropped``.
5. **Entities across a sentence break**: the sentences are merged, counted as
   ``sentence_breaks_removed``.

Bookkeeping: ``entities_in_source == not_in_label_set + discontinuous_dropped
+ no_tokens_dropped + nested_dropped + overlapping_dropped + entities_kept``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from itertools import accumulate, pairwise

from entity_bert.data import iob2
from entity_bert.data.corpus import Document, Entity, Sentence
from entity_bert.data.segmentation import split_sentences

DISCONTINUOUS_POLICIES = ("extent", "first_fragment", "drop")
DROP_KEYS = (
    "not_in_label_set",
    "discontinuous_dropped",
    "no_tokens_dropped",
    "nested_dropped",
    "overlapping_dropped",
)


def invert_mapping(label_set: Mapping[str, list[str]] | None) -> dict[str, str] | None:
    """``{study_type: [source types]}`` to ``{source_type: study_type}``."""
    if label_set is None:
        return None
    inverse: dict[str, str] = {}
    for target, sources in label_set.items():
        for source in sources:
            if source in inverse:
                raise ValueError(f"source type {source!r} mapped twice")
            inverse[source] = target
    return inverse


def character_range(entity: Entity, policy: str) -> tuple[int, int] | None:
    """The characters an entity is tagged over under a discontinuous-span policy; None: dropped."""
    if len(entity.fragments) == 1 or policy == "extent":
        return entity.start, entity.end
    if policy == "first_fragment":
        return entity.fragments[0]
    return None


def _token_range(starts: list[int], ends: list[int], start: int, end: int) -> tuple[int, int] | None:
    """Indexes ``[first, stop)`` of the (sorted) tokens that overlap ``[start, end)``."""
    first, stop = bisect_right(ends, start), bisect_left(starts, end)
    return (first, stop) if first < stop else None


def _resolve_overlaps(candidates: list[tuple[int, int, str, str]], counts: Counter) -> list:
    """Keep the longest entities that do not overlap; count the others."""
    owner: dict[int, int] = {}
    kept: list[tuple[int, int, str, str]] = []
    for first, stop, kind, entity_id in sorted(candidates, key=lambda c: (c[0] - c[1], c[0], c[2], c[3])):
        clashes = {owner[i] for i in range(first, stop) if i in owner}
        if not clashes:
            for i in range(first, stop):
                owner[i] = len(kept)
            kept.append((first, stop, kind, entity_id))
        elif len(clashes) == 1 and all(i in owner for i in range(first, stop)):
            counts["nested_dropped"] += 1
        else:
            counts["overlapping_dropped"] += 1
    return sorted(kept)


def _candidates(
    document: Document,
    tokens: list[tuple[int, int]],
    mapping: Mapping[str, str] | None,
    discontinuous: str,
    counts: Counter,
) -> list[tuple[int, int, str, str]]:
    """Steps 1-3: each entity as ``(first_token, stop_token, type, id)``, or counted out."""
    starts, ends = [a for a, _ in tokens], [b for _, b in tokens]
    candidates = []
    for entity in document.entities:
        counts["entities_in_source"] += 1
        kind = entity.type if mapping is None else mapping.get(entity.type)
        if kind is None:
            counts["not_in_label_set"] += 1
            continue
        if len(entity.fragments) > 1:
            counts["discontinuous"] += 1
        characters = character_range(entity, discontinuous)
        if characters is None:
            counts["discontinuous_dropped"] += 1
            continue
        token_range = _token_range(starts, ends, *characters)
        if token_range is None:
            counts["no_tokens_dropped"] += 1
            continue
        first, stop = token_range
        if (starts[first], ends[stop - 1]) != characters:
            counts["boundary_inside_token"] += 1
        candidates.append((first, stop, kind, entity.id))
    return candidates


def _sentence_bounds(
    sentence_spans: list[list[tuple[int, int]]], kept: list[tuple[int, int, str, str]], counts: Counter
) -> list[tuple[int, int]]:
    """Step 5: token ranges of the final sentences, merged where a kept entity crosses a break."""
    sentence_of = [k for k, sentence in enumerate(sentence_spans) for _ in sentence]
    breaks = set(range(len(sentence_spans) - 1))  # break k lies after sentence k
    for first, stop, _, _ in kept:
        crossed = set(range(sentence_of[first], sentence_of[stop - 1]))
        counts["sentence_breaks_removed"] += len(crossed & breaks)
        breaks -= crossed
    sentence_starts = list(accumulate(len(sentence) for sentence in sentence_spans))
    cuts = [0, *(sentence_starts[k] for k in sorted(breaks)), len(sentence_of)]
    return list(pairwise(cuts)) if sentence_of else []


def document_to_sentences(
    document: Document,
    mapping: Mapping[str, str] | None = None,
    discontinuous: str = "extent",
) -> tuple[list[Sentence], Counter]:
    """Segment ``document`` and tag its entities in IOB2 under the policies above."""
    if discontinuous not in DISCONTINUOUS_POLICIES:
        raise ValueError(f"discontinuous policy must be one of {DISCONTINUOUS_POLICIES}")
    counts: Counter = Counter(dict.fromkeys(DROP_KEYS, 0))
    counts.update(document.notes)
    sentence_spans = split_sentences(document.text)
    tokens = [span for sentence in sentence_spans for span in sentence]
    kept = _resolve_overlaps(_candidates(document, tokens, mapping, discontinuous, counts), counts)
    counts["entities_kept"] = len(kept)
    sentences = []
    for begin, end in _sentence_bounds(sentence_spans, kept, counts):
        inside = [(a - begin, b - begin, kind) for a, b, kind, _ in kept if begin <= a < end]
        offsets = tokens[begin:end]
        sentences.append(
            Sentence(
                tokens=[document.text[a:b] for a, b in offsets],
                tags=iob2.spans_to_tags(end - begin, inside),
                offsets=offsets,
                source=document.source,
                doc=document.id,
            )
        )
    return sentences, counts


def sentence_entities(sentences: list[Sentence]) -> Counter:
    """Entities per type in tagged sentences."""
    return Counter(kind for s in sentences for _, _, kind in iob2.tags_to_spans(s.tags))


def relabel(sentence: Sentence, mapping: Mapping[str, str] | None) -> tuple[Sentence, Counter]:
    """Apply a label-set mapping to an already tagged sentence (TSV corpora)."""
    spans = iob2.tags_to_spans(sentence.tags)
    counts: Counter = Counter(dict.fromkeys(DROP_KEYS, 0))
    counts["entities_in_source"] = len(spans)
    if mapping is not None:
        mapped = [(a, b, mapping[kind]) for a, b, kind in spans if kind in mapping]
        counts["not_in_label_set"] = len(spans) - len(mapped)
        spans = mapped
    counts["entities_kept"] = len(spans)
    tags = iob2.spans_to_tags(len(sentence.tokens), spans)
    return replace(sentence, tags=tags), counts
