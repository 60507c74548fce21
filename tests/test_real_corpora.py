"""The real corpora, read from the offline mirror beside the project (skipped without it).

Fetches the five corpora into a temporary folder, prepares them with the
study's own parameters, and checks the processed data against counts taken
straight from the source files: ``B-`` tags for the TSV corpora, ``T`` lines
for the standoff corpora.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import pytest

from entity_bert.data import iob2, sources
from entity_bert.data.corpus import read_jsonl
from entity_bert.data.prepare import DataParams, prepare_corpus

ROOT = Path(__file__).resolve().parents[1]
MIRROR = Path(os.environ.get(sources.MIRROR_ENV) or ROOT.parent / "shared" / "corpora")
CORPORA = ["maccrobat2020", "ncbi-disease", "bc5cdr", "jnlpba", "anatem"]
OFFICIAL_SENTENCES = {  # from the mirror's README
    "ncbi-disease": {"train": 5424, "dev": 923, "test": 940},
    "bc5cdr": {"train": 4560, "dev": 4581, "test": 4797},
    "anatem": {"train": 5861, "dev": 2118, "test": 3830},
}
TSV_FILES = {"train": "train.tsv", "dev": "devel.tsv", "test": "test.tsv"}

pytestmark = pytest.mark.skipif(not MIRROR.is_dir(), reason=f"no corpus mirror at {MIRROR}")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    work = tmp_path_factory.mktemp("real")
    params = DataParams.load(ROOT / "params" / "data.yaml")
    params.raw_dir, params.processed_dir = str(work / "raw"), str(work / "processed")
    params.label_sets = {
        corpus: {name: path and str(ROOT / path) for name, path in sets.items()}
        for corpus, sets in params.label_sets.items()
    }
    sources.fetch(CORPORA, work / "raw", MIRROR)
    stats = {corpus: prepare_corpus(corpus, params) for corpus in CORPORA}
    return params, stats


def _processed(params, corpus, label_set, split):
    return read_jsonl(Path(params.processed_dir) / corpus / label_set / f"{split}.jsonl")


def _b_tags(path: Path) -> Counter:
    return Counter(re.findall(r"\tB-(\S+)\r?$", path.read_text("utf-8"), flags=re.MULTILINE))


@pytest.mark.parametrize("corpus", ["ncbi-disease", "bc5cdr", "anatem"])
def test_tsv_entity_counts_equal_source_b_tags(prepared, corpus):
    params, stats = prepared
    splits = stats[corpus]["label_sets"]["all"]["splits"]
    for split, name in TSV_FILES.items():
        source_counts = _b_tags(Path(params.raw_dir) / corpus / name)
        assert splits[split]["entities"] == dict(source_counts)
        assert splits[split]["conversion"]["iob2_repairs"] == 0
        assert splits[split]["sentences"] == OFFICIAL_SENTENCES[corpus][split]


def _t_lines(folder: Path) -> Counter:
    counts: Counter = Counter()
    for ann in folder.rglob("*.ann"):
        counts.update(re.findall(r"^T\S*\t(\S+) ", ann.read_text("utf-8"), flags=re.MULTILINE))
    return counts


@pytest.mark.parametrize("corpus", ["maccrobat2020", "jnlpba"])
def test_every_standoff_entity_is_kept_or_counted_by_a_policy(prepared, corpus):
    params, stats = prepared
    in_source = _t_lines(Path(params.raw_dir) / corpus)
    for label_set, content in stats[corpus]["label_sets"].items():
        total: Counter = Counter()
        for split in content["splits"].values():
            total.update(split["conversion"])
        repeated = stats[corpus]["repeated_documents_removed"]["entities_in_source"]
        assert total["entities_in_source"] + repeated == sum(in_source.values())
        dropped = sum(total[k] for k in ("not_in_label_set", "discontinuous_dropped", "no_tokens_dropped"))
        dropped += total["nested_dropped"] + total["overlapping_dropped"]
        assert total["entities_kept"] + dropped == total["entities_in_source"]
        in_files: Counter = Counter()
        for split in content["splits"]:
            for sentence in _processed(params, corpus, label_set, split):
                in_files.update(kind for _, _, kind in iob2.tags_to_spans(sentence.tags))
        assert sum(in_files.values()) == total["entities_kept"]
        if label_set == "all" and not repeated:
            assert all(in_files[kind] <= in_source[kind] for kind in in_files)


def test_maccrobat_paper_label_set_counts_only_mapped_types(prepared):
    params, stats = prepared
    in_source = _t_lines(Path(params.raw_dir) / "maccrobat2020")
    content = stats["maccrobat2020"]["label_sets"]["paper6"]
    assert content["types"] == ["Anatomy", "Disease", "Drug", "Laboratory_test", "Surgery", "Symptom"]
    kept = Counter()
    for split in content["splits"].values():
        kept.update(split["entities"])
    assert kept["Symptom"] <= in_source["Sign_symptom"]
    assert kept["Laboratory_test"] <= in_source["Diagnostic_procedure"] + in_source["Lab_value"]
    unmapped = sum(in_source.values()) - sum(
        in_source[t] for t in ("Disease_disorder", "Medication", "Therapeutic_procedure",
                               "Diagnostic_procedure", "Lab_value", "Biological_structure", "Sign_symptom")
    )  # fmt: skip
    assert sum(s["conversion"]["not_in_label_set"] for s in content["splits"].values()) == unmapped


def test_jnlpba_documents_repeated_from_train_in_test_are_kept_in_test_only(prepared):
    _, stats = prepared
    removed = stats["jnlpba"]["repeated_documents_removed"]
    assert len(removed["units"]) == 10
    assert all(unit.startswith("standoff/train/") for unit in removed["units"])
    assert stats["maccrobat2020"]["repeated_documents_removed"]["units"] == []


DOCUMENTS_PER_SPLIT = {"maccrobat2020": (140, 20, 40), "jnlpba": (1791, 199, 404)}


@pytest.mark.parametrize(("corpus", "sizes"), DOCUMENTS_PER_SPLIT.items())
def test_document_level_splits(prepared, corpus, sizes):
    params, stats = prepared
    label_set = stats[corpus]["default_label_set"]
    docs = {split: {s.doc for s in _processed(params, corpus, label_set, split)} for split in TSV_FILES}
    assert tuple(len(docs[s]) for s in ("train", "dev", "test")) == sizes
    assert not (docs["train"] & docs["dev"] or docs["train"] & docs["test"] or docs["dev"] & docs["test"])


@pytest.mark.parametrize("corpus", CORPORA)
def test_token_offsets_point_into_the_source_files(prepared, corpus):
    params, stats = prepared
    texts: dict[str, str] = {}
    for sentence in _processed(params, corpus, stats[corpus]["default_label_set"], "test"):
        if sentence.source not in texts:
            path = Path(params.raw_dir) / sentence.source
            texts[sentence.source] = path.read_bytes().decode("utf-8")
        text = texts[sentence.source]
        assert [text[a:b] for a, b in sentence.offsets] == sentence.tokens


def test_preparing_again_gives_byte_identical_files(prepared):
    params, _ = prepared
    out = Path(params.processed_dir) / "maccrobat2020"
    before = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    prepare_corpus("maccrobat2020", params)
    assert {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()} == before
