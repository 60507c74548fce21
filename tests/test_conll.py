"""``conll.read_tsv``: sentences, tags and offsets of valid files; repairs; errors naming PATH:LINE."""

from __future__ import annotations

from pathlib import Path

import pytest

from entity_bert.core.errors import InputError
from entity_bert.data.conll import read_tsv

VALID = (
    "Familial\tB-Disease\nbreast\tI-Disease\ncancer\tI-Disease\nis\tO\nrare\tO\n\nAPC\tO\nmutations\tO\n\n"
)


def _write(tmp_path: Path, content: str | bytes, name: str = "data.tsv") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def _assert_offsets_match_file(path: Path, result) -> None:
    text = path.read_bytes().decode("utf-8")
    for sentence in result.sentences:
        assert len(sentence.offsets) == len(sentence.tokens)
        for token, (start, end) in zip(sentence.tokens, sentence.offsets, strict=True):
            assert text[start:end] == token


def _error(path: Path, **kwargs) -> InputError:
    with pytest.raises(InputError) as info:
        read_tsv(path, **kwargs)
    return info.value


def test_valid_file_sentences_and_tags(tmp_path):
    path = _write(tmp_path, VALID)
    result = read_tsv(path)
    assert [s.tokens for s in result.sentences] == [
        ["Familial", "breast", "cancer", "is", "rare"],
        ["APC", "mutations"],
    ]
    assert [s.tags for s in result.sentences] == [
        ["B-Disease", "I-Disease", "I-Disease", "O", "O"],
        ["O", "O"],
    ]
    assert result.repairs_per_sentence == [0, 0]
    assert result.repairs == 0


def test_offsets_are_slices_of_the_decoded_file(tmp_path):
    path = _write(tmp_path, "Le\tO\nnaïve\tO\nβ-blocker\tB-Chemical\n\n°C\tO\n")
    result = read_tsv(path)
    _assert_offsets_match_file(path, result)
    assert result.sentences[0].offsets[2] == (len("Le\tO\nnaïve\tO\n"), len("Le\tO\nnaïve\tO\nβ-blocker"))


def test_source_defaults_to_path_and_can_be_given(tmp_path):
    path = _write(tmp_path, VALID)
    assert {s.source for s in read_tsv(path).sentences} == {str(path)}
    assert {s.source for s in read_tsv(path, source="ncbi/train.tsv").sentences} == {"ncbi/train.tsv"}


def test_file_without_trailing_empty_line(tmp_path):
    path = _write(tmp_path, "a\tO\nb\tB-X\n\nc\tO\nd\tO")
    result = read_tsv(path)
    assert [s.tokens for s in result.sentences] == [["a", "b"], ["c", "d"]]
    _assert_offsets_match_file(path, result)


def test_several_empty_lines_between_sentences(tmp_path):
    path = _write(tmp_path, "\n\na\tO\n\n\n\nb\tO\n\n")
    assert [s.tokens for s in read_tsv(path).sentences] == [["a"], ["b"]]


def test_crlf_line_endings(tmp_path):
    path = _write(tmp_path, VALID.replace("\n", "\r\n"))
    result = read_tsv(path)
    lf = read_tsv(_write(tmp_path, VALID, "lf.tsv"))
    assert [s.tokens for s in result.sentences] == [s.tokens for s in lf.sentences]
    assert [s.tags for s in result.sentences] == [s.tags for s in lf.sentences]
    assert all("\r" not in tag for s in result.sentences for tag in s.tags)
    _assert_offsets_match_file(path, result)


def test_repairs_are_counted_per_sentence(tmp_path):
    content = "a\tO\nb\tI-X\n\nc\tO\n\nd\tB-Y\ne\tI-X\nf\tO\ng\tI-X\n"
    result = read_tsv(_write(tmp_path, content))
    assert result.repairs_per_sentence == [1, 0, 2]
    assert result.repairs == 3
    assert result.sentences[0].tags == ["O", "B-X"]
    assert result.sentences[2].tags == ["B-Y", "B-X", "O", "B-X"]


def test_strict_raises_on_the_line_of_the_bad_i_tag(tmp_path):
    path = _write(tmp_path, "a\tO\n\nb\tO\nc\tB-Y\nd\tI-X\n")
    error = _error(path, strict=True)
    assert error.line == 5
    assert str(error).startswith(f"{path}:5: ")
    assert "I-X" in str(error)


def test_strict_accepts_a_valid_file(tmp_path):
    assert read_tsv(_write(tmp_path, VALID), strict=True).repairs == 0


def test_known_entity_types_are_accepted(tmp_path):
    result = read_tsv(_write(tmp_path, VALID), entity_types=["Disease"])
    assert len(result.sentences) == 2


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ("a\tO\nb\tO\tO\n", 2),  # three fields
        ("a\tO\n\nb O\n", 3),  # no tab
        ("a\tO\nb\tX-Disease\n", 2),  # not IOB2
        ("a\tB-\n", 1),  # type missing
        ("a\tO\nb\to\n", 2),  # lower-case o
        ("a\tO\n\tO\n", 2),  # empty token
        ("a\tO\n b\tO\n", 2),  # space-padded token
        ("a\tO\nb c\tO\n", 2),  # whitespace inside a token (would break CoNLL output)
    ],
)
def test_malformed_lines_name_path_and_line(tmp_path, content, line):
    path = _write(tmp_path, content)
    error = _error(path)
    assert error.path == str(path)
    assert error.line == line
    assert str(error) == f"{path}:{line}: {error.message}"


def test_unknown_entity_type_names_its_line(tmp_path):
    path = _write(tmp_path, "a\tB-Disease\n\nb\tB-Chemical\n")
    error = _error(path, entity_types={"Disease"})
    assert str(error).startswith(f"{path}:3: ")
    assert "Chemical" in error.message


def test_non_utf8_bytes_name_their_line(tmp_path):
    path = _write(tmp_path, b"a\tO\nb\tO\nc\xff\tO\n")
    error = _error(path)
    assert str(error).startswith(f"{path}:3: ")
    assert "UTF-8" in error.message


def test_empty_file_is_an_error_on_line_1(tmp_path):
    path = _write(tmp_path, b"")
    assert str(_error(path)).startswith(f"{path}:1: ")


@pytest.mark.parametrize("content", ["\n", "\n\n\n", "\r\n\r\n"])
def test_file_of_only_blank_lines_is_an_error_on_line_1(tmp_path, content):
    path = _write(tmp_path, content)
    assert str(_error(path)).startswith(f"{path}:1: ")
