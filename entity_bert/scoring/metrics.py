"""Quality metrics for tagged sentences: entity-level precision, recall and F1, and token accuracy.

:func:`entity_scores` compares gold and predicted IOB2 tag sequences and returns
plain, JSON-serialisable numbers; :func:`format_scores` turns them into a short
summary for the command line. Efficiency measurements (time, memory) live
elsewhere.

Entities are scored with seqeval in strict mode with the IOB2 scheme: an entity
counts as found only when its first token, last token and type all match. In
strict mode a chunk is only ever opened by a ``B-`` tag, so a predicted ``I-X``
that follows ``O`` (or a tag of another type) is not part of any predicted
entity; it is neither a true nor a false positive. Predictions are scored as
given, never repaired: a model that emits invalid IOB2 pays for it in recall.
Gold tags must be valid IOB2 (the corpus readers repair or reject invalid
tags), since strict mode would otherwise drop gold entities and understate the
support.

:func:`conlleval_scores` reads the same predictions as the CoNLL script
``conlleval`` does (and most published NER figures): an ``I-X`` that continues
nothing starts an entity. It is seqeval's default mode, which seqeval documents
as conlleval-compatible (``tests/test_metrics.py`` checks it against the PyPI
``conlleval`` package). On valid IOB2 the two readings agree exactly, so a
decoding that emits only valid IOB2 (``models/decoding.py``) scores the same
under both. :func:`decoding_scores` holds everything a run records per
decoding.
"""

from __future__ import annotations

from seqeval.metrics import classification_report
from seqeval.scheme import IOB2, Entities

from entity_bert.data import iob2


def _validate(gold: list[list[str]], predicted: list[list[str]]) -> None:
    """Raise ValueError unless the two tag sequences can be compared."""
    if len(gold) == 0:
        raise ValueError("no sentences to score: the gold tag sequences are empty")
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold sentences but {len(predicted)} predicted sentences")
    for index, (gold_tags, predicted_tags) in enumerate(zip(gold, predicted, strict=True)):
        if len(gold_tags) != len(predicted_tags):
            raise ValueError(
                f"sentence {index}: {len(gold_tags)} gold tags but {len(predicted_tags)} predicted tags"
            )
        for side, tags in (("gold", gold_tags), ("predicted", predicted_tags)):
            for position, tag in enumerate(tags):
                if not isinstance(tag, str) or not iob2.is_tag(tag):
                    raise ValueError(f"sentence {index}: malformed {side} tag {tag!r} at token {position}")
                kind = iob2.entity_type(tag)
                # seqeval strips '-' from both ends of a type, so "B--X" would silently count as "B-X".
                if kind is not None and (kind.startswith("-") or kind.endswith("-")):
                    raise ValueError(
                        f"sentence {index}: {side} tag {tag!r} at token {position} has a type that "
                        "begins or ends with '-', which seqeval would merge with another type"
                    )
        bad = iob2.invalid_positions(gold_tags)
        if bad:
            raise ValueError(
                f"sentence {index}: invalid IOB2 in gold tags (I- tag not continuing an entity) "
                f"at token(s) {bad}"
            )


def _as_scores(row: dict) -> dict:
    """A seqeval report row as plain Python numbers, with ``f1`` for ``f1-score``."""
    return {
        "precision": float(row["precision"]),
        "recall": float(row["recall"]),
        "f1": float(row["f1-score"]),
        "support": int(row["support"]),
    }


def entity_scores(gold: list[list[str]], predicted: list[list[str]]) -> dict:
    """Entity-level precision, recall and F1 (micro and per type) and token accuracy.

    We use seqeval because it is the reference implementation NER results are
    compared against; in strict mode with the IOB2 scheme it is conlleval-compatible
    on valid IOB2 (exact span and type match) and differs only in not reading an
    invalid ``I-X`` as the start of an entity, as conlleval and seqeval's default do.

    ``gold`` and ``predicted`` hold one list of IOB2 tags per sentence, in the
    same order and of the same lengths. Predicted sequences may contain invalid
    IOB2 (``I-X`` after ``O`` or after another type): strict mode does not
    count such a chunk as an entity, even when it covers a gold span, and the
    predictions are not repaired. Gold sequences must be valid IOB2.

    Returns a JSON-serialisable dict::

        {"micro": {"precision", "recall", "f1", "support"},
         "per_type": {TYPE: {"precision", "recall", "f1", "support"}},
         "token_accuracy": float, "sentences": int, "tokens": int}

    ``support`` is the number of gold entities (of that type, for ``per_type``);
    a type that only occurs in predictions appears with support 0. Undefined
    ratios (no predicted or no gold entities) are 0, without warnings.
    ``token_accuracy`` is the fraction of tokens whose predicted tag equals the
    gold tag, counting every token including ``O`` tokens: the paper's
    "Accuracy".

    Raises ValueError, naming the sentence index, when the sentence counts or
    lengths differ, a tag is malformed or gold IOB2 is invalid, and when there
    are no sentences or no tokens at all.
    """
    _validate(gold, predicted)
    tokens = sum(len(tags) for tags in gold)
    if tokens == 0:
        raise ValueError(f"no tokens to score: all {len(gold)} sentences are empty")
    correct = sum(
        g == p
        for gold_tags, predicted_tags in zip(gold, predicted, strict=True)
        for g, p in zip(gold_tags, predicted_tags, strict=True)
    )

    # In strict IOB2 every entity starts with a B- tag and every B- tag starts an entity.
    # Without any, seqeval's report averages over no types and warns; the answer is all zeros.
    if any(tag.startswith("B-") for tags in (*gold, *predicted) for tag in tags):
        report = classification_report(
            gold, predicted, mode="strict", scheme=IOB2, output_dict=True, zero_division=0
        )
        micro = _as_scores(report["micro avg"])
        per_type = {
            kind: _as_scores(row)
            for kind, row in sorted(report.items())
            if kind not in ("micro avg", "macro avg", "weighted avg")
        }
    else:
        micro = {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
        per_type = {}

    return {
        "micro": micro,
        "per_type": per_type,
        "token_accuracy": correct / tokens,
        "sentences": len(gold),
        "tokens": tokens,
    }


def conlleval_scores(gold: list[list[str]], predicted: list[list[str]]) -> dict:
    """Precision, recall and F1, micro and per type, as the CoNLL script ``conlleval`` reads the tags.

    Same shape as :func:`entity_scores`' ``micro`` and ``per_type``.
    Undefined ratios are 0.
    """
    _validate(gold, predicted)
    if not any(tag != "O" for tags in (*gold, *predicted) for tag in tags):
        return {"micro": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}, "per_type": {}}
    report = classification_report(gold, predicted, output_dict=True, zero_division=0)  # default mode
    return {
        "micro": _as_scores(report["micro avg"]),
        "per_type": {
            kind: _as_scores(row)
            for kind, row in sorted(report.items())
            if kind not in ("micro avg", "macro avg", "weighted avg")
        },
    }


def invalid_transitions(predicted: list[list[str]]) -> int:
    """How many ``I-X`` tags continue no ``X`` entity (IOB2 violations)."""
    return sum(len(iob2.invalid_positions(tags)) for tags in predicted)


def decoding_scores(gold: list[list[str]], predicted: list[list[str]]) -> dict:
    """What a run records of one decoding's predictions.

    ``scores`` (seqeval strict IOB2, :func:`entity_scores`), ``conlleval``
    (:func:`conlleval_scores`), ``invalid_transitions`` and ``per_sentence``
    (:func:`sentence_counts`, strict, for the paired bootstrap).
    """
    return {
        "scores": entity_scores(gold, predicted),
        "conlleval": conlleval_scores(gold, predicted),
        "invalid_transitions": invalid_transitions(predicted),
        "per_sentence": sentence_counts(gold, predicted),
    }


def sentence_counts(gold: list[list[str]], predicted: list[list[str]]) -> dict[str, list[int]]:
    """Per sentence: gold, predicted and correct entities (seqeval strict IOB2), tokens, correct tokens.

    Summed over sentences they give :func:`entity_scores`' micro figures
    exactly (precision = correct / predicted, recall = correct / gold), which
    is what a paired bootstrap over sentences resamples.
    """
    _validate(gold, predicted)
    gold_entities = Entities(gold, IOB2, suffix=False).entities
    predicted_entities = Entities(predicted, IOB2, suffix=False).entities
    counts: dict[str, list[int]] = {
        "gold": [],
        "predicted": [],
        "correct": [],
        "tokens": [],
        "correct_tokens": [],
    }
    for g_tags, p_tags, g_ents, p_ents in zip(
        gold, predicted, gold_entities, predicted_entities, strict=True
    ):
        g_spans = {e.to_tuple()[1:] for e in g_ents}
        p_spans = {e.to_tuple()[1:] for e in p_ents}
        counts["gold"].append(len(g_spans))
        counts["predicted"].append(len(p_spans))
        counts["correct"].append(len(g_spans & p_spans))
        counts["tokens"].append(len(g_tags))
        counts["correct_tokens"].append(sum(g == p for g, p in zip(g_tags, p_tags, strict=True)))
    return counts


def format_scores(scores: dict) -> str:
    """A short multi-line summary of :func:`entity_scores` output for the command line."""
    micro = scores["micro"]
    lines = [
        f"{scores['sentences']} sentences, {scores['tokens']} tokens (entities: seqeval strict, IOB2)",
        f"micro     P {micro['precision']:.4f}  R {micro['recall']:.4f}  F1 {micro['f1']:.4f}"
        f"  support {micro['support']}",
        f"token accuracy {scores['token_accuracy']:.4f} (all tokens, O included)",
    ]
    per_type = scores["per_type"]
    width = max((len(kind) for kind in per_type), default=0)
    for kind, row in per_type.items():
        lines.append(
            f"  {kind:<{width}}  P {row['precision']:.4f}  R {row['recall']:.4f}  F1 {row['f1']:.4f}"
            f"  support {row['support']}"
        )
    return "\n".join(lines)

