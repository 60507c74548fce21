"""Looking inside one trained run: its predictions, its errors by type, its cross-attention.

The explore notebook (``notebooks/explore.py``) calls these on a run's
checkpoint folder (``<checkpoints_dir>/<run name>/``, which holds the run's
``config.json`` and ``best/`` weights):

- :func:`load_run` rebuilds the run and loads its best checkpoint;
- :func:`document_sentences` picks one document's sentences from a split, and
  :func:`predict` tags them;
- :func:`document_html` shows gold and predicted entities, a colour per type;
- :func:`errors_by_type` counts false positives and false negatives per type
  (seqeval strict IOB2 entities, as every score of the study), with boundary
  and type confusions;
- :func:`cross_attention` and :func:`plot_attention` show Entity-BERT's
  cross-attention weights a_ij (LSTM word i reading encoder word j, see
  :mod:`entity_bert.models.entity_bert`) for one sentence.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from seqeval.scheme import IOB2, Entities

from entity_bert.data.corpus import Sentence, read_jsonl
from entity_bert.models.entity_bert import EntityBertBody
from entity_bert.runs.config import RunConfig
from entity_bert.runs.data import split_file
from entity_bert.runs.model import load_trained
from entity_bert.serve.predict import type_colours
from entity_bert.training.engine import Run, predict_indexes
from entity_bert.training.evaluation import neural_predictor

Span = tuple[str, int, int]  # entity type, first token, one past the last token


def load_run(run_dir: str | Path) -> Run:
    """A trained run from its checkpoint folder (its ``config.json`` and best weights)."""
    return load_trained(RunConfig.saved(run_dir))


def split_sentences(run: Run, split: str = "test", max_sentences: int | None = None) -> list[Sentence]:
    """The first ``max_sentences`` sentences (all for ``None``) of one of the run's processed splits."""
    return read_jsonl(split_file(run.config, split))[:max_sentences]


def document_sentences(
    sentences: list[Sentence], document: str | None = None, limit: int | None = 50
) -> list[Sentence]:
    """The first ``limit`` sentences of ``document`` (default: the first sentence's document).

    Corpora that do not record documents (the TSV ones) give the split's first ``limit`` sentences.
    """
    if not sentences:
        return []
    name = sentences[0].doc if document is None else document
    chosen = [s for s in sentences if s.doc == name]
    if not chosen:
        raise ValueError(f"no sentences of document {name!r} in this split")
    return chosen[:limit]


def predict(run: Run, sentences: list[Sentence], decode: str = "constrained") -> list[list[str]]:
    """Predicted IOB2 tags of each sentence (``decode``: constrained or argmax)."""
    return neural_predictor(run)(sentences)[decode]


def entity_spans(tags: list[str]) -> set[Span]:
    """The entities of one sentence's IOB2 tags, as seqeval reads them in strict mode."""
    entities = Entities([tags], IOB2, suffix=False).entities[0]
    return {(e.tag, e.start, e.end) for e in entities}


def _marked(tokens: list[str], spans: set[Span], colours: dict[str, str], wrong: set[Span]) -> str:
    """Tokens with each entity highlighted; spans in ``wrong`` get a red border."""
    starts = {start: (kind, end) for kind, start, end in spans}
    parts, i = [], 0
    while i < len(tokens):
        if i not in starts:
            parts.append(html.escape(tokens[i]))
            i += 1
            continue
        kind, end = starts[i]
        border = "2px solid #d62728" if (kind, i, end) in wrong else "1px solid transparent"
        text, label = html.escape(" ".join(tokens[i:end])), html.escape(kind)
        style = f"background:{colours[kind]};border:{border};padding:0 2px"
        parts.append(f'<span style="{style}" title="{label}">{text}<sub>{label}</sub></span>')
        i = end
    return " ".join(parts)


def document_html(sentences: list[Sentence], gold: list[list[str]], predicted: list[list[str]]) -> str:
    """Gold and predicted entities of each sentence, a colour per type; wrong ones outlined in red.

    A gold entity is outlined when it was not predicted exactly (a false
    negative), a predicted one when it is not a gold entity (a false positive).
    """
    gold_spans = [entity_spans(tags) for tags in gold]
    predicted_spans = [entity_spans(tags) for tags in predicted]
    types = sorted({kind for spans in gold_spans + predicted_spans for kind, _, _ in spans})
    colours = type_colours(types)
    legend = " ".join(
        f'<span style="background:{colours[k]};padding:0 4px">{html.escape(k)}</span>' for k in types
    )
    rows = []
    for sentence, g, p in zip(sentences, gold_spans, predicted_spans, strict=True):
        rows.append(
            f"<tr><td><b>gold</b></td><td>{_marked(sentence.tokens, g, colours, g - p)}</td></tr>"
            f"<tr><td><b>predicted</b></td><td>{_marked(sentence.tokens, p, colours, p - g)}</td></tr>"
            '<tr><td colspan="2"><hr></td></tr>'
        )
    return (
        f"<div><p>Entity types: {legend or 'none'}; red outline: missed (gold) or wrong (predicted).</p>"
        f'<table style="line-height:1.8">{"".join(rows)}</table></div>'
    )


def _overlaps(a: Span, b: Span) -> bool:
    return a[1] < b[2] and b[1] < a[2]


def errors_by_type(gold: list[list[str]], predicted: list[list[str]]) -> pd.DataFrame:
    """Per entity type: gold, predicted and correct entities, false positives and false negatives.

    Of the false positives, ``boundary_errors`` overlap a gold entity of the
    same type (wrong boundaries) and ``type_errors`` cover exactly a gold
    entity of another type (wrong type). Entities are seqeval strict IOB2 spans.
    """
    counts: dict[str, dict[str, int]] = {}
    keys = [
        "gold",
        "predicted",
        "correct",
        "false_positives",
        "false_negatives",
        "boundary_errors",
        "type_errors",
    ]
    for gold_tags, predicted_tags in zip(gold, predicted, strict=True):
        g, p = entity_spans(gold_tags), entity_spans(predicted_tags)
        for kind, *_ in g | p:
            counts.setdefault(kind, dict.fromkeys(keys, 0))
        for span in g:
            counts[span[0]]["gold"] += 1
            counts[span[0]]["false_negatives"] += span not in p
        for span in p:
            row = counts[span[0]]
            row["predicted"] += 1
            row["correct"] += span in g
            row["false_positives"] += span not in g
            if span not in g:
                row["boundary_errors"] += any(o[0] == span[0] and _overlaps(o, span) for o in g)
                row["type_errors"] += any(o[0] != span[0] and o[1:] == span[1:] for o in g)
    frame = pd.DataFrame(
        [{"type": kind, **row} for kind, row in sorted(counts.items())], columns=["type", *keys]
    )
    return frame


def cross_attention(run: Run, sentence: Sentence) -> tuple[list[str], np.ndarray]:
    """The words of ``sentence`` and Entity-BERT's cross-attention a_ij over them ([words, words]).

    Row i is LSTM word i's attention over the encoder's words j (rows sum to 1).
    Raises TypeError for models without Entity-BERT's cross-attention.
    """
    body = getattr(run.model, "body", None)
    if not isinstance(body, EntityBertBody):
        raise TypeError(
            f"model {run.config.model.name!r} has no cross-attention; only Entity-BERT's body "
            "(entity_bert.models.entity_bert.EntityBertBody) has one"
        )
    examples = run.examples_for([sentence])
    predict_indexes(run.model, examples, 1, run.device, run.precision)
    matrix = body.attention[0].float().cpu().numpy()
    words = list(sentence.tokens)
    return words, matrix[: len(words), : len(words)]


def plot_attention(words: list[str], matrix: np.ndarray) -> Figure:
    """A heatmap of cross-attention weights: LSTM words (rows) reading encoder words (columns)."""
    size = max(4.0, 0.3 * len(words) + 1.5)
    figure = Figure(figsize=(size + 1, size))
    axes = figure.add_subplot()
    image = axes.imshow(matrix, cmap="viridis", vmin=0.0)
    axes.set_xticks(range(len(words)), words, rotation=90, fontsize=8)
    axes.set_yticks(range(len(words)), words, fontsize=8)
    axes.set_xlabel("encoder word j")
    axes.set_ylabel("LSTM word i")
    axes.set_title("Entity-BERT cross-attention a_ij")
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    figure.tight_layout()
    return figure
