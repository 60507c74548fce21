"""From standoff entities to IOB2 sentences: each named policy, its counts, and the bookkeeping identity."""

from __future__ import annotations

from collections import Counter

import pytest

from entity_bert.data import iob2
from entity_bert.data.corpus import Document, Entity, Sentence
from entity_bert.data.spans import DROP_KEYS, document_to_sentences, invert_mapping, relabel

TEXT = "He has lung cancer. It spread.\n"


def _at(text: str, phrase: str, nth: int = 0) -> tuple[int, int]:
    """Character offsets of the ``nth`` occurrence of ``phrase`` in ``text``."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(phrase, start + 1)
    return start, start + len(phrase)


def _entity(entity_id: str, kind: str, *fragments: tuple[int, int]) -> Entity:
    return Entity(entity_id, kind, list(fragments), line=int(entity_id[1:]))


def _document(text: str, *entities: Entity) -> Document:
    return Document("doc1", "corpus/doc1.txt", text, list(entities))


def _tagged(sentences: list[Sentence]) -> list[list[tuple[str, str]]]:
    return [list(zip(s.tokens, s.tags, strict=True)) for s in sentences]


def _entities(sentences: list[Sentence]) -> list[tuple[str, str]]:
    """``(text, type)`` of every tagged entity, joining tokens with spaces."""
    return [(" ".join(s.tokens[a:b]), kind) for s in sentences for a, b, kind in iob2.tags_to_spans(s.tags)]


def _assert_bookkeeping(counts: Counter) -> None:
    assert counts["entities_in_source"] == counts["entities_kept"] + sum(counts[key] for key in DROP_KEYS)


def _assert_offsets(document: Document, sentences: list[Sentence]) -> None:
    for sentence in sentences:
        assert sentence.doc == document.id
        assert sentence.source == document.source
        assert len(sentence.tokens) == len(sentence.tags) == len(sentence.offsets)
        for token, (a, b) in zip(sentence.tokens, sentence.offsets, strict=True):
            assert document.text[a:b] == token


def test_plain_entities_are_tagged_per_sentence():
    document = _document(TEXT, _entity("T1", "Disease", _at(TEXT, "lung cancer")))
    sentences, counts = document_to_sentences(document)
    assert _tagged(sentences) == [
        [("He", "O"), ("has", "O"), ("lung", "B-Disease"), ("cancer", "I-Disease"), (".", "O")],
        [("It", "O"), ("spread", "O"), (".", "O")],
    ]
    assert counts["entities_in_source"] == counts["entities_kept"] == 1
    assert all(counts[key] == 0 for key in DROP_KEYS)
    _assert_offsets(document, sentences)


def test_nested_entity_is_dropped_and_the_longest_wins():
    # the shorter entity comes first: order in the file must not matter
    document = _document(
        TEXT,
        _entity("T1", "Disease", _at(TEXT, "cancer")),
        _entity("T2", "Disease", _at(TEXT, "lung cancer")),
    )
    sentences, counts = document_to_sentences(document)
    assert _entities(sentences) == [("lung cancer", "Disease")]
    assert counts["nested_dropped"] == 1
    assert counts["overlapping_dropped"] == 0
    assert counts["entities_kept"] == 1
    _assert_bookkeeping(counts)


def test_crossing_entity_is_counted_as_overlapping():
    document = _document(
        TEXT,
        _entity("T1", "Disease", _at(TEXT, "lung cancer")),
        _entity("T2", "Other", _at(TEXT, "He has lung")),
    )
    sentences, counts = document_to_sentences(document)
    assert _entities(sentences) == [("He has lung", "Other")]
    assert counts["overlapping_dropped"] == 1
    assert counts["nested_dropped"] == 0
    _assert_bookkeeping(counts)


def test_tie_in_length_goes_to_the_earlier_start():
    document = _document(
        TEXT, _entity("T1", "B", _at(TEXT, "lung cancer")), _entity("T2", "A", _at(TEXT, "has lung"))
    )
    sentences, counts = document_to_sentences(document)
    assert _entities(sentences) == [("has lung", "A")]
    assert counts["overlapping_dropped"] == 1


def test_same_span_with_two_types_keeps_one():
    span = _at(TEXT, "lung cancer")
    document = _document(TEXT, _entity("T1", "Disease", span), _entity("T2", "Anatomy", span))
    sentences, counts = document_to_sentences(document)
    assert _entities(sentences) == [("lung cancer", "Anatomy")]  # ties go to the type, then the id
    assert counts["nested_dropped"] == 1
    assert counts["entities_kept"] == 1
    _assert_bookkeeping(counts)


DISCONTINUOUS_TEXT = "He had lung and liver cancer.\n"


def _discontinuous_document() -> Document:
    text = DISCONTINUOUS_TEXT
    return _document(text, _entity("T1", "Disease", _at(text, "lung"), _at(text, "cancer")))


@pytest.mark.parametrize(
    ("policy", "entities", "dropped"),
    [
        ("extent", [("lung and liver cancer", "Disease")], 0),
        ("first_fragment", [("lung", "Disease")], 0),
        ("drop", [], 1),
    ],
)
def test_discontinuous_policies(policy, entities, dropped):
    sentences, counts = document_to_sentences(_discontinuous_document(), discontinuous=policy)
    assert _entities(sentences) == entities
    assert counts["discontinuous"] == 1
    assert counts["discontinuous_dropped"] == dropped
    assert counts["entities_kept"] == 1 - dropped
    _assert_bookkeeping(counts)


def test_extent_is_the_default_policy():
    sentences, _ = document_to_sentences(_discontinuous_document())
    assert _entities(sentences) == [("lung and liver cancer", "Disease")]


def test_unknown_discontinuous_policy_raises():
    with pytest.raises(ValueError, match="discontinuous"):
        document_to_sentences(_discontinuous_document(), discontinuous="union")


def test_boundary_inside_a_token_widens_to_the_token():
    text = "He has hyperthyroidism today.\n"
    start, end = _at(text, "thyroid")
    document = _document(text, _entity("T1", "Disease", (start, end)))
    sentences, counts = document_to_sentences(document)
    assert _entities(sentences) == [("hyperthyroidism", "Disease")]
    assert counts["boundary_inside_token"] == 1
    assert counts["entities_kept"] == 1


def test_end_inside_a_token_widens_to_the_token():
    start, end = _at(TEXT, "lung canc")
    sentences, counts = document_to_sentences(_document(TEXT, _entity("T1", "Disease", (start, end))))
    assert _entities(sentences) == [("lung cancer", "Disease")]
    assert counts["boundary_inside_token"] == 1


def test_exact_token_boundaries_are_not_counted_as_inside():
    _, counts = document_to_sentences(_document(TEXT, _entity("T1", "Disease", _at(TEXT, "lung cancer"))))
    assert counts["boundary_inside_token"] == 0


def test_entity_across_a_sentence_break_merges_the_sentences():
    document = _document(TEXT, _entity("T1", "Odd", _at(TEXT, "cancer. It")))
    sentences, counts = document_to_sentences(document)
    assert len(sentences) == 1
    assert sentences[0].tokens == ["He", "has", "lung", "cancer", ".", "It", "spread", "."]
    assert sentences[0].tags == ["O", "O", "O", "B-Odd", "I-Odd", "I-Odd", "O", "O"]
    assert counts["sentence_breaks_removed"] == 1
    _assert_offsets(document, sentences)


def test_entity_across_a_line_break_merges_only_the_lines_it_crosses():
    text = "Diagnosis\nlung\ncancer\nTreatment\n"
    document = _document(text, _entity("T1", "Disease", _at(text, "lung\ncancer")))
    sentences, counts = document_to_sentences(document)
    assert [s.tokens for s in sentences] == [["Diagnosis"], ["lung", "cancer"], ["Treatment"]]
    assert sentences[1].tags == ["B-Disease", "I-Disease"]
    assert counts["sentence_breaks_removed"] == 1
    _assert_offsets(document, sentences)


def test_mapping_renames_types_and_leaves_out_unmapped_ones():
    text = "Aspirin for lung cancer.\n"
    document = _document(
        text, _entity("T1", "Drug", _at(text, "Aspirin")), _entity("T2", "Disease", _at(text, "lung cancer"))
    )
    sentences, counts = document_to_sentences(document, mapping={"Disease": "Illness"})
    assert sentences[0].tags == ["O", "O", "B-Illness", "I-Illness", "O"]
    assert counts["not_in_label_set"] == 1
    assert counts["entities_kept"] == 1
    _assert_bookkeeping(counts)


def test_document_notes_are_carried_into_the_counts():
    document = _document(TEXT)
    document.notes["extra_field_after_text"] = 2
    _, counts = document_to_sentences(document)
    assert counts["extra_field_after_text"] == 2


def test_bookkeeping_identity_on_a_mixed_document():
    text = "A 48-year-old man had lung and liver cancer.  It spread to the bone marrow.\nHe took aspirin.\n"
    entities = [
        _entity("T1", "Age", _at(text, "48-year-old")),  # kept
        _entity("T2", "Disease", _at(text, "lung"), _at(text, "cancer")),  # discontinuous, dropped
        _entity("T3", "Disease", _at(text, "liver cancer")),  # kept
        _entity("T4", "Anatomy", _at(text, "liver")),  # nested in T3
        _entity("T5", "Anatomy", _at(text, "bone marrow")),  # kept
        _entity("T6", "Disease", _at(text, "marrow.")),  # crosses T5 (same length, later start)
        _entity("T7", "Drug", _at(text, "aspirin")),  # not in the label set
        _entity("T8", "Disease", _at(text, "  ")),  # only whitespace: no tokens
        _entity("T9", "Disease", _at(text, "spread")),  # kept
    ]
    document = _document(text, *entities)
    mapping = {"Age": "Age", "Disease": "Disease", "Anatomy": "Anatomy"}
    sentences, counts = document_to_sentences(document, mapping, discontinuous="drop")
    assert counts["entities_in_source"] == 9
    assert counts["entities_kept"] == 4
    assert counts["not_in_label_set"] == 1
    assert counts["discontinuous"] == 1
    assert counts["discontinuous_dropped"] == 1
    assert counts["no_tokens_dropped"] == 1
    assert counts["nested_dropped"] == 1
    assert counts["overlapping_dropped"] == 1
    _assert_bookkeeping(counts)
    assert _entities(sentences) == [
        ("48 - year - old", "Age"),
        ("liver cancer", "Disease"),
        ("spread", "Disease"),
        ("bone marrow", "Anatomy"),
    ]
    assert sum(len(iob2.tags_to_spans(s.tags)) for s in sentences) == counts["entities_kept"]
    assert all(iob2.invalid_positions(s.tags) == [] for s in sentences)
    _assert_offsets(document, sentences)


def test_tokens_cover_the_document_whatever_the_entities():
    text = "Fever of 37.5 °C.\r\nA naïve β-blocker user.\n"
    document = _document(text, _entity("T1", "Sign", _at(text, "37.5 °C.\r\nA")))
    sentences, _ = document_to_sentences(document)
    _assert_offsets(document, sentences)
    joined = "".join(t for s in sentences for t in s.tokens)
    assert joined == "".join(text.split())


def test_invert_mapping():
    label_set = {"Illness": ["Disease", "Sign_symptom"], "Drug": ["Medication"]}
    assert invert_mapping(label_set) == {
        "Disease": "Illness",
        "Sign_symptom": "Illness",
        "Medication": "Drug",
    }


def test_invert_mapping_of_none_is_none():
    assert invert_mapping(None) is None


def test_invert_mapping_rejects_a_source_type_mapped_twice():
    with pytest.raises(ValueError, match="Disease"):
        invert_mapping({"Illness": ["Disease"], "Problem": ["Sign", "Disease"]})


SENTENCE = Sentence(
    tokens=["Aspirin", "for", "lung", "cancer", "and", "fever"],
    tags=["B-Chemical", "O", "B-Disease", "I-Disease", "O", "B-Sign"],
    offsets=[(0, 7), (8, 11), (12, 16), (17, 23), (24, 27), (28, 33)],
    source="corpus/train.tsv",
)


def test_relabel_maps_and_drops_types():
    tagged, counts = relabel(SENTENCE, {"Disease": "Illness", "Sign": "Illness"})
    assert tagged.tags == ["O", "O", "B-Illness", "I-Illness", "O", "B-Illness"]
    assert (tagged.tokens, tagged.offsets, tagged.source) == (
        SENTENCE.tokens,
        SENTENCE.offsets,
        SENTENCE.source,
    )
    assert counts["entities_in_source"] == 3
    assert counts["not_in_label_set"] == 1
    assert counts["entities_kept"] == 2
    _assert_bookkeeping(counts)
    assert SENTENCE.tags[0] == "B-Chemical"  # the input is left alone


def test_relabel_without_mapping_keeps_everything():
    tagged, counts = relabel(SENTENCE, None)
    assert tagged.tags == SENTENCE.tags
    assert counts["entities_in_source"] == counts["entities_kept"] == 3
    assert counts["not_in_label_set"] == 0


def test_relabel_keeps_adjacent_entities_apart_after_merging_types():
    sentence = Sentence(["a", "b"], ["B-X", "B-Y"], [(0, 1), (2, 3)], "s")
    tagged, _ = relabel(sentence, {"X": "Z", "Y": "Z"})
    assert tagged.tags == ["B-Z", "B-Z"]
