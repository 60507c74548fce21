"""``entity-bert data prepare``: raw corpus files in, processed splits out.

For each corpus: verify the raw files against the manifest, read them
(validating as the readers do), turn standoff documents into IOB2 sentences
under each label set (:mod:`entity_bert.data.spans`), assign every document to a
split (:mod:`entity_bert.data.splits`) and write::

    data/processed/<corpus>/<label_set>/{train,dev,test}.jsonl
    data/processed/<corpus>/stats.json

A document that an official split repeats from another (JNLPBA's official
train and test share ten MEDLINE abstracts, the same text annotated twice) is
kept only in the later split (test before dev before train), so that no
document is in two splits and the official test set stays whole; the copies
removed are listed in ``stats.json``.

``stats.json`` holds, per label set and split, the documents, sentences,
tokens and entities per type, and the counts of every conversion policy (the
input of Table 1). The corpus folder is built under a temporary name and
swapped in whole, so a failure leaves the previous output as it was.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from entity_bert.core.errors import InputError
from entity_bert.core.fileio import atomic_directory, read_utf8
from entity_bert.core.progress import progress
from entity_bert.data import brat, conll, spans, splits
from entity_bert.data.corpus import Sentence, write_jsonl
from entity_bert.data.sources import corpus_sources, verify


@dataclass
class DataParams:
    """The ``data`` block of ``params/data.yaml``."""

    corpora: list[str]
    raw_dir: str = "data/raw"
    processed_dir: str = "data/processed"
    seed: int = 13
    split: str = "official"
    fractions: dict[str, float] = field(default_factory=lambda: {"train": 0.7, "dev": 0.1, "test": 0.2})
    dev_fraction_of_train: float = 0.1
    discontinuous: str = "extent"
    label_sets: dict[str, dict[str, str | None]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> DataParams:
        return cls(**yaml.safe_load(Path(path).read_text("utf-8"))["data"])


@dataclass
class Unit:
    """What a split assigns: a document, or a sentence where documents are unknown."""

    id: str
    official_split: str | None
    doc: str | None = None
    sentences: dict[str, list[Sentence]] = field(default_factory=dict)
    counts: dict[str, Counter] = field(default_factory=dict)


LabelSets = dict[str, dict[str, str] | None]


def load_label_sets(corpus: str, params: DataParams) -> LabelSets:
    """``{label_set: {source_type: study_type} or None}``, checked against the corpus's types."""
    known = set(corpus_sources()[corpus]["entity_types"])
    label_sets = {}
    for name, path in params.label_sets.get(corpus, {"all": None}).items():
        if path is None:
            label_sets[name] = None
            continue
        content = yaml.safe_load(read_utf8(path))
        if not isinstance(content, dict) or not all(isinstance(v, list) for v in content.values()):
            raise InputError(path, None, "expected a mapping 'StudyType: [SourceType, ...]'")
        try:
            mapping = spans.invert_mapping(content)
        except ValueError as error:
            raise InputError(path, None, str(error)) from None
        unknown = sorted(set(mapping) - known)
        if unknown:
            raise InputError(path, None, f"{unknown[0]!r} is not a {corpus} entity type")
        label_sets[name] = mapping
    return label_sets


def _tsv_units(corpus: str, params: DataParams, label_sets: LabelSets) -> list[Unit]:
    """Every sentence of a TSV corpus is a unit (the files record no documents)."""
    source = corpus_sources()[corpus]
    units = []
    for split, name in source["splits"].items():
        path = Path(params.raw_dir) / corpus / name
        result = conll.read_tsv(path, f"{corpus}/{name}", source["entity_types"])
        for i, sentence in enumerate(result.sentences):
            unit = Unit(f"{name}:{i}", split)
            for label_set, mapping in label_sets.items():
                tagged, counts = spans.relabel(sentence, mapping)
                counts["iob2_repairs"] = result.repairs_per_sentence[i]
                unit.sentences[label_set], unit.counts[label_set] = [tagged], counts
            units.append(unit)
    return units


def _brat_units(corpus: str, params: DataParams, label_sets: LabelSets) -> list[Unit]:
    """Every document of a standoff corpus is a unit, converted under each label set."""
    source = corpus_sources()[corpus]
    raw = Path(params.raw_dir)
    units = []
    for split, folder in source["splits"].items() or [(None, ".")]:
        documents = brat.read_folder(raw / corpus / folder, source["entity_types"], source_root=raw)
        for document in progress(documents, desc=f"{corpus} {split or ''}".strip(), unit="doc"):
            unit = Unit(f"{folder}/{document.id}", split, document.id)
            for label_set, mapping in label_sets.items():
                unit.sentences[label_set], unit.counts[label_set] = spans.document_to_sentences(
                    document, mapping, params.discontinuous
                )
            units.append(unit)
    return units


def drop_repeated_documents(units: list[Unit]) -> tuple[list[Unit], list[Unit]]:
    """Keep each document once, in its latest official split; return kept and removed units."""
    rank = {"test": 0, "dev": 1, "train": 2, None: 3}
    first_seen: dict[str, Unit] = {}
    for unit in sorted(units, key=lambda u: rank[u.official_split]):
        if unit.doc is not None:
            first_seen.setdefault(unit.doc, unit)
    kept = [u for u in units if u.doc is None or first_seen[u.doc] is u]
    return kept, [u for u in units if u.doc is not None and first_seen[u.doc] is not u]


def split_statistics(units: list[Unit], label_set: str, has_documents: bool) -> dict:
    """Documents (``None`` where unrecorded), sentences, tokens, entities per type, conversion counts."""
    sentences = [s for unit in units for s in unit.sentences[label_set]]
    conversion: Counter = Counter()
    for unit in units:
        conversion.update(unit.counts[label_set])
    return {
        "documents": len({unit.doc for unit in units}) if has_documents else None,
        "sentences": len(sentences),
        "tokens": sum(len(s.tokens) for s in sentences),
        "entities": dict(sorted(spans.sentence_entities(sentences).items())),
        "conversion": dict(sorted(conversion.items())),
    }


def prepare_corpus(corpus: str, params: DataParams) -> dict:
    """Write the processed splits and ``stats.json`` of one corpus; return the stats."""
    verify([corpus], Path(params.raw_dir))
    source = corpus_sources()[corpus]
    label_sets = load_label_sets(corpus, params)
    default = next(iter(label_sets))
    read_units = _tsv_units if source["format"] == "tsv" else _brat_units
    units, repeated = drop_repeated_documents(read_units(corpus, params, label_sets))
    assignment = splits.assign_splits(
        {unit.id: unit.official_split for unit in units},
        params.split,
        params.fractions,
        params.dev_fraction_of_train,
        params.seed,
    )
    by_split = {name: [u for u in units if assignment[u.id] == name] for name in splits.SPLITS}
    stats = {
        "corpus": corpus,
        "title": source["title"],
        "format": source["format"],
        "stands_in_for": source["stands_in_for"],
        "split_protocol": params.split,
        "split_unit": "document" if source["format"] == "brat" else "sentence",
        "seed": params.seed,
        "fractions": params.fractions,
        "dev_fraction_of_train": params.dev_fraction_of_train,
        "discontinuous": params.discontinuous,
        "repeated_documents_removed": {
            "units": sorted(u.id for u in repeated),
            "entities_in_source": sum(u.counts[default]["entities_in_source"] for u in repeated),
        },
        "default_label_set": default,
        "label_sets": {},
    }
    with atomic_directory(Path(params.processed_dir) / corpus) as out:
        for label_set, mapping in label_sets.items():
            (out / label_set).mkdir()
            per_split = {}
            for name, members in by_split.items():
                sentences = [s for unit in members for s in unit.sentences[label_set]]
                (out / label_set / f"{name}.jsonl").write_text(write_jsonl(sentences), "utf-8")
                per_split[name] = split_statistics(members, label_set, source["format"] == "brat")
            types = sorted(set(mapping.values()) if mapping else source["entity_types"])
            stats["label_sets"][label_set] = {"types": types, "splits": per_split}
        (out / "stats.json").write_text(json.dumps(stats, indent=2, ensure_ascii=False) + "\n")
    return stats
