"""A second, independent evaluation path: raw ``.txt`` in, standoff ``.ann`` out, scored by span.

The study scores models at the token level: seqeval (strict IOB2) over the
processed test sentences. Here the same exported model reads the test
documents as a user would, as raw ``.txt`` through ``entity-bert predict
--format brat``, and the ``.ann`` it writes is scored against the corpus's
own gold ``.ann``: an entity counts when its character span and type are
exactly a gold entity's. Three scores on the same documents:

- ``token_level``: seqeval strict IOB2 micro scores on the processed test
  sentences (what the study's tables report, here on the whole split);
- ``span_level``: predicted ``.ann`` against the corpus's gold ``.ann``
  (entities of the model's label set; a discontinuous entity as its extent,
  the preparation's policy);
- ``span_level_flat_gold``: predicted ``.ann`` against the gold entities of
  the processed sentences, as character spans.

Why they may differ, and the tolerance. The token level scores a *flat* gold:
preparation widens an entity whose boundary falls inside a word to whole
words, drops nested and overlapping entities (one entity per word), and
merges sentences an entity crosses. The span level scores the corpus's gold
as annotated, which a flat tagger can never match exactly on those
entities, so each of them can move precision or recall by at most one
entity. The stated tolerance is therefore::

    |F1_span - F1_token| <= (gold entities whose exact span is not in the flat gold
                             + flat gold entities not in the corpus gold) / gold entities + 0.005

the 0.005 allowing for sentences merged in preparation, which the raw-text
path reads as two (the model sees a different context there).
``span_level_flat_gold`` against ``token_level`` isolates that last effect.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from entity_bert.core.fileio import atomic_write_text
from entity_bert.data import brat, spans
from entity_bert.data.corpus import Sentence, read_jsonl
from entity_bert.data.iob2 import entity_spans
from entity_bert.data.prepare import DataParams, load_label_sets
from entity_bert.data.sources import corpus_sources

if TYPE_CHECKING:  # scoring a model loads torch; copying the documents does not
    from entity_bert.serve.recogniser import Recogniser

Span = tuple[str, int, int, str]  # document, start, end, type


@dataclass
class TestDocuments:
    """The documents of a processed split, and where their raw ``.txt`` lies."""

    corpus: str
    split: str
    label_set: str
    sentences: list[Sentence]
    texts: dict[str, Path]  # document id -> raw .txt


def test_documents(corpus: str, split: str, label_set: str, params: DataParams) -> TestDocuments:
    """The split's sentences and raw documents (standoff corpora only: TSV ones have no documents)."""
    if corpus_sources()[corpus]["format"] != "brat":
        raise ValueError(f"{corpus} is not a standoff corpus: it has no raw documents to read")
    sentences = read_jsonl(Path(params.processed_dir) / corpus / label_set / f"{split}.jsonl")
    texts = {s.doc: Path(params.raw_dir) / s.source for s in sentences}
    return TestDocuments(corpus, split, label_set, sentences, texts)


def copy_documents(documents: TestDocuments, out: str | Path) -> Path:
    """Copy the raw ``.txt`` of each document to ``out`` (where ``predict --format brat`` writes)."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for doc, path in sorted(documents.texts.items()):
        shutil.copyfile(path, out / f"{doc}.txt")
    return out


def corpus_gold(documents: TestDocuments, params: DataParams) -> set[Span]:
    """Gold entities of the corpus's ``.ann`` in the label set, as the preparation reads them."""
    mapping = load_label_sets(documents.corpus, params)[documents.label_set]
    types = corpus_sources()[documents.corpus]["entity_types"]
    gold = set()
    for doc, txt in documents.texts.items():
        for entity in brat.read_document(txt, doc, entity_types=types).entities:
            kind = entity.type if mapping is None else mapping.get(entity.type)
            extent = spans.character_range(entity, params.discontinuous)
            if kind is not None and extent is not None:
                gold.add((doc, *extent, kind))
    return gold


def sentence_spans(sentences: list[Sentence], tags: list[list[str]]) -> set[Span]:
    """Entities of IOB2 ``tags`` (seqeval strict) as character spans of their documents."""
    return {
        (sentence.doc, start, end, kind)
        for sentence, row in zip(sentences, tags, strict=True)
        for start, end, kind, _, _ in entity_spans(sentence.offsets, row)
    }


def predicted_spans(folder: Path, documents: TestDocuments, types: list[str]) -> set[Span]:
    """Entities of the ``.ann`` files ``predict`` wrote beside the copied ``.txt`` files."""
    found = set()
    for doc in documents.texts:
        for entity in brat.read_document(folder / f"{doc}.txt", doc, entity_types=types).entities:
            found.add((doc, entity.start, entity.end, entity.type))
    return found


def span_scores(gold: set[Span], predicted: set[Span]) -> dict:
    """Exact span-and-type precision, recall and F1, micro and per type."""

    def ratios(g: set[Span], p: set[Span]) -> dict:
        correct = len(g & p)
        precision = correct / len(p) if p else 0.0
        recall = correct / len(g) if g else 0.0
        f1 = 2 * precision * recall / (precision + recall) if correct else 0.0
        return {"precision": precision, "recall": recall, "f1": f1, "support": len(g), "predicted": len(p)}

    types = sorted({s[3] for s in gold | predicted})
    return {
        "micro": ratios(gold, predicted),
        "per_type": {
            t: ratios({s for s in gold if s[3] == t}, {s for s in predicted if s[3] == t}) for t in types
        },
    }


def evaluate(
    recogniser: Recogniser, documents: TestDocuments, predicted_folder: Path, params: DataParams
) -> dict:
    """The three scores, the gold differences that explain them, and the tolerance check."""
    from entity_bert.scoring.metrics import entity_scores

    sentences = documents.sentences
    tagged = [tags for tags, _ in recogniser.tag(sentences)]
    token = entity_scores([s.tags for s in sentences], tagged)
    gold, flat = corpus_gold(documents, params), sentence_spans(sentences, [s.tags for s in sentences])
    predicted = predicted_spans(predicted_folder, documents, recogniser.types)
    span, span_flat = span_scores(gold, predicted), span_scores(flat, predicted)
    not_flat, not_corpus = gold - flat, flat - gold
    tolerance = (len(not_flat) + len(not_corpus)) / len(gold) + 0.005
    difference = span["micro"]["f1"] - token["micro"]["f1"]
    token_path = sentence_spans(sentences, tagged)
    return {
        "corpus": documents.corpus,
        "split": documents.split,
        "label_set": documents.label_set,
        "documents": len(documents.texts),
        "sentences": len(sentences),
        "model": recogniser.exported.manifest["trained"],
        "token_level": {
            "micro": token["micro"],
            "per_type": token["per_type"],
            "token_accuracy": token["token_accuracy"],
        },
        "span_level": span,
        "span_level_flat_gold": span_flat,
        "gold": {
            "corpus_entities": len(gold),
            "flat_entities": len(flat),
            "corpus_not_in_flat": len(not_flat),
            "flat_not_in_corpus": len(not_corpus),
            "corpus_not_in_flat_by_type": dict(sorted(Counter(s[3] for s in not_flat).items())),
        },
        "predictions_differing_between_paths": len(predicted ^ token_path),
        "f1_difference": difference,
        "tolerance": tolerance,
        "agrees": abs(difference) <= tolerance,
    }


def markdown(result: dict) -> str:
    """The comparison as a Markdown section (for results/raw_text and the report)."""
    trained = result["model"]
    rows = [
        ("token level: seqeval strict IOB2, processed sentences", result["token_level"]["micro"]),
        ("span level: predicted .ann vs the corpus's gold .ann", result["span_level"]["micro"]),
        ("span level: predicted .ann vs the flat gold (as spans)", result["span_level_flat_gold"]["micro"]),
    ]
    table = "\n".join(
        f"| {name} | {m['precision']:.4f} | {m['recall']:.4f} | {m['f1']:.4f} | {m['support']} |"
        for name, m in rows
    )
    g = result["gold"]
    model = f"{trained['model']} ({trained['regime']}, seed {trained['seed']})"
    return (
        f"Model: {model} trained on {trained['corpus']} ({trained['label_set']}); scored on all "
        f"{result['documents']} {result['split']} documents ({result['sentences']} sentences) of "
        f"{result['corpus']}, read as raw text by `entity-bert predict --format brat`.\n\n"
        "| evaluation | precision | recall | F1 | gold entities |\n|---|---:|---:|---:|---:|\n"
        f"{table}\n\n"
        f"F1 difference (span level - token level): {result['f1_difference']:+.4f}; stated tolerance "
        f"{result['tolerance']:.4f}: {'within' if result['agrees'] else 'OUTSIDE'} it. "
        f"Of the {g['corpus_entities']} gold entities of the corpus's .ann, {g['corpus_not_in_flat']} "
        "have no exact counterpart in the flat gold the token level scores (nested or overlapping "
        "entities dropped, boundaries inside a word widened, discontinuous ones read as their extent), "
        f"and {g['flat_not_in_corpus']} flat gold entities are such widened spans; a flat tagger cannot "
        "match those exactly, so each moves the span-level scores by at most one entity. Predictions "
        "that differ between the two paths (sentences merged in preparation, read as two from raw "
        f"text): {result['predictions_differing_between_paths']}.\n"
    )


def write(result: dict, out: str | Path) -> None:
    out = Path(out)
    atomic_write_text(out / "span_eval.json", json.dumps(result, indent=1, sort_keys=True) + "\n")
    atomic_write_text(
        out / "span_eval.md", "# Raw text: span level against token level\n\n" + markdown(result)
    )
