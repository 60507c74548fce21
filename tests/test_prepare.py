"""``prepare_corpus`` end to end on toy corpora: layout, statistics, determinism, atomicity."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from entity_bert.core.errors import InputError
from entity_bert.data.corpus import read_jsonl
from entity_bert.data.prepare import prepare_corpus


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_writes_every_split_of_every_label_set(toy_params):
    prepare_corpus("toy-brat", toy_params)
    out = Path(toy_params.processed_dir) / "toy-brat"
    assert sorted(_files(out)) == [
        "all/dev.jsonl", "all/test.jsonl", "all/train.jsonl",
        "illness/dev.jsonl", "illness/test.jsonl", "illness/train.jsonl",
        "stats.json",
    ]  # fmt: skip


def test_document_split_follows_fractions_and_keeps_documents_whole(toy_params):
    stats = prepare_corpus("toy-brat", toy_params)
    splits = stats["label_sets"]["all"]["splits"]
    assert [splits[s]["documents"] for s in ("train", "dev", "test")] == [14, 2, 4]
    out = Path(toy_params.processed_dir) / "toy-brat" / "all"
    docs = {s: {x.doc for x in read_jsonl(out / f"{s}.jsonl")} for s in ("train", "dev", "test")}
    assert not (docs["train"] & docs["dev"] or docs["train"] & docs["test"] or docs["dev"] & docs["test"])


def test_label_set_mapping_and_counts(toy_params):
    stats = prepare_corpus("toy-brat", toy_params)
    illness = stats["label_sets"]["illness"]
    assert illness["types"] == ["Illness"]
    train = illness["splits"]["train"]
    assert train["entities"] == {"Illness": 14}
    conversion = train["conversion"]
    assert conversion["entities_in_source"] == 14 * 4
    assert conversion["not_in_label_set"] == 14 * 2  # Age and Drug
    assert conversion["nested_dropped"] == 14  # "cancer" inside "lung cancer"
    full = stats["label_sets"]["all"]["splits"]["train"]["entities"]
    assert full == {"Age": 14, "Disease": 14, "Drug": 14}


def test_offsets_point_into_the_source_document(toy_params):
    prepare_corpus("toy-brat", toy_params)
    raw = Path(toy_params.raw_dir)
    for sentence in read_jsonl(Path(toy_params.processed_dir) / "toy-brat" / "all" / "train.jsonl"):
        text = (raw / sentence.source).read_text("utf-8")
        assert [text[a:b] for a, b in sentence.offsets] == sentence.tokens


def test_same_seed_gives_byte_identical_files_and_another_seed_differs(toy_params):
    out = Path(toy_params.processed_dir) / "toy-brat"
    prepare_corpus("toy-brat", toy_params)
    first = _files(out)
    prepare_corpus("toy-brat", toy_params)
    assert _files(out) == first
    toy_params.seed += 1
    prepare_corpus("toy-brat", toy_params)
    assert _files(out)["all/test.jsonl"] != first["all/test.jsonl"]


def test_tsv_corpus_keeps_official_splits(toy_params):
    stats = prepare_corpus("toy-tsv", toy_params)
    splits = stats["label_sets"]["all"]["splits"]
    assert {s: splits[s]["sentences"] for s in splits} == {"train": 2, "dev": 2, "test": 2}
    assert splits["test"]["entities"] == {"Disease": 1}
    assert splits["test"]["documents"] is None
    assert stats["split_unit"] == "sentence"


def test_paper_protocol_resplits_tsv_sentences(toy_params):
    toy_params.split = "paper"
    stats = prepare_corpus("toy-tsv", toy_params)
    sizes = [stats["label_sets"]["all"]["splits"][s]["sentences"] for s in ("train", "dev", "test")]
    assert sum(sizes) == 6 and sizes == [4, 1, 1]


def test_bad_input_fails_and_leaves_previous_output_untouched(toy_params):
    prepare_corpus("toy-brat", toy_params)
    out = Path(toy_params.processed_dir) / "toy-brat"
    before = _files(out)
    bad = Path(toy_params.raw_dir) / "toy-brat" / "doc007.ann"
    bad.write_text("T1\tDisease 22 33\tlung cancre\n", "utf-8")
    with pytest.raises(InputError, match=r"doc007\.ann:1: span text"):
        prepare_corpus("toy-brat", toy_params)
    assert _files(out) == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["toy-brat"]  # no temporary leftovers


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("Illness: Disease\n", "expected a mapping"),
        ("Illness: [Disease]\nSickness: [Disease]\n", "mapped twice"),
        ("Illness: [Diseas]\n", "'Diseas' is not a toy-brat entity type"),
    ],
)
def test_bad_label_mapping_file_is_refused(toy_params, content, message):
    mapping = Path(toy_params.label_sets["toy-brat"]["illness"])
    mapping.write_text(content, "utf-8")
    with pytest.raises(InputError, match=message) as info:
        prepare_corpus("toy-brat", toy_params)
    assert str(info.value).startswith(str(mapping))
    assert not (Path(toy_params.processed_dir) / "toy-brat").exists()


def test_stats_file_records_the_protocol(toy_params):
    prepare_corpus("toy-brat", toy_params)
    stats = json.loads((Path(toy_params.processed_dir) / "toy-brat" / "stats.json").read_text())
    assert stats["split_protocol"] == "official"
    assert stats["seed"] == toy_params.seed
    assert stats["default_label_set"] == "illness"


def test_a_sentence_record_holds_every_field_and_reads_back():
    from dataclasses import fields

    from entity_bert.data.corpus import Sentence

    sentence = Sentence(["Fever", "."], ["B-Sign", "O"], [(0, 5), (5, 6)], "a.txt", "a")
    assert set(json.loads(sentence.to_json())) == {f.name for f in fields(Sentence)}
    assert Sentence.from_json(sentence.to_json()) == sentence
