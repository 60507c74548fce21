"""IOB2 tags: well-formedness, invalid ``I-`` tags, their repair, and spans <-> tags."""

from __future__ import annotations

import pytest

from entity_bert.data import iob2


@pytest.mark.parametrize("tag", ["O", "B-Disease", "I-Disease", "B-cell_line", "I-Dis-ease", "B-β"])
def test_is_tag_accepts_well_formed_tags(tag):
    assert iob2.is_tag(tag)


@pytest.mark.parametrize(
    "tag", ["", "o", "B-", "I-", "X-Disease", "B_Disease", "BDisease", "B-Dis ease", "B-\tX", " O", "OO"]
)
def test_is_tag_rejects_malformed_tags(tag):
    assert not iob2.is_tag(tag)


@pytest.mark.parametrize("tag", ["O\n", "B-Disease\n"])
def test_is_tag_rejects_a_trailing_newline(tag):
    assert not iob2.is_tag(tag)


def test_entity_type_of_tags():
    assert iob2.entity_type("O") is None
    assert iob2.entity_type("B-Disease") == "Disease"
    assert iob2.entity_type("I-cell_type") == "cell_type"


def test_valid_sequence_has_no_invalid_positions():
    assert iob2.invalid_positions(["B-X", "I-X", "O", "B-Y", "B-Y", "I-Y"]) == []


def test_invalid_positions_finds_i_after_o_after_other_type_and_at_start():
    tags = ["I-X", "O", "I-X", "B-Y", "I-X", "I-X"]
    assert iob2.invalid_positions(tags) == [0, 2, 4]


def test_repair_turns_i_after_o_into_b():
    fixed, count = iob2.repair(["O", "I-Disease", "I-Disease", "O"])
    assert fixed == ["O", "B-Disease", "I-Disease", "O"]
    assert count == 1


def test_repair_turns_i_after_other_type_into_b():
    fixed, count = iob2.repair(["B-Chemical", "I-Disease", "I-Disease"])
    assert fixed == ["B-Chemical", "B-Disease", "I-Disease"]
    assert count == 1


def test_repair_counts_every_fix_and_leaves_input_alone():
    tags = ["I-X", "O", "I-Y", "B-X", "I-Y"]
    fixed, count = iob2.repair(tags)
    assert fixed == ["B-X", "O", "B-Y", "B-X", "B-Y"]
    assert count == 3
    assert tags == ["I-X", "O", "I-Y", "B-X", "I-Y"]
    assert iob2.invalid_positions(fixed) == []


def test_repair_of_valid_tags_is_identity():
    tags = ["B-X", "I-X", "O", "B-Y"]
    assert iob2.repair(tags) == (tags, 0)


def test_tags_to_spans():
    tags = ["B-X", "I-X", "O", "B-Y", "B-Y", "I-Y", "I-Y", "O", "B-X"]
    assert iob2.tags_to_spans(tags) == [(0, 2, "X"), (3, 4, "Y"), (4, 7, "Y"), (8, 9, "X")]


def test_tags_to_spans_of_all_o_is_empty():
    assert iob2.tags_to_spans(["O", "O"]) == []


@pytest.mark.parametrize(
    "tags",
    [
        ["O", "O", "O"],
        ["B-X", "I-X", "I-X"],
        ["B-X", "B-X", "O", "B-Y", "I-Y"],
        ["B-Disease", "O", "B-Chemical", "I-Chemical", "B-Disease"],
    ],
)
def test_tags_spans_round_trip(tags):
    spans = iob2.tags_to_spans(tags)
    assert iob2.spans_to_tags(len(tags), spans) == tags


def test_spans_to_tags_builds_b_and_i():
    assert iob2.spans_to_tags(5, [(0, 1, "A"), (2, 5, "B")]) == ["B-A", "O", "B-B", "I-B", "I-B"]


@pytest.mark.parametrize(
    "spans",
    [
        [(0, 3, "X"), (2, 4, "Y")],  # crossing
        [(0, 4, "X"), (1, 2, "X")],  # nested
        [(1, 2, "X"), (1, 2, "Y")],  # same tokens twice
    ],
)
def test_spans_to_tags_rejects_overlaps(spans):
    with pytest.raises(ValueError, match="overlapping"):
        iob2.spans_to_tags(5, spans)
