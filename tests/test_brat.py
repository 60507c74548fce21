"""brat standoff: ``read_document`` and ``read_folder`` on valid documents and on each kind of bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from entity_bert.core.errors import InputError
from entity_bert.data.brat import read_document, read_folder

TEXT = "A 48-year-old man had lung and liver cancer.\nHe took aspirin.\n"


def _doc(folder: Path, name: str, text: str | bytes, ann: str | bytes | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    txt = folder / f"{name}.txt"
    txt.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    if ann is not None:
        (folder / f"{name}.ann").write_bytes(ann.encode("utf-8") if isinstance(ann, str) else ann)
    return txt


def _error(call, *args, **kwargs) -> InputError:
    with pytest.raises(InputError) as info:
        call(*args, **kwargs)
    return info.value


def test_valid_document_with_a_discontinuous_entity(tmp_path):
    ann = (
        "T1\tAge 2 13\t48-year-old\n"
        "T2\tDisease 22 26;37 43\tlung cancer\n"
        "T3\tDisease 31 43\tliver cancer\n"
        "T4\tDrug 53 60\taspirin\n"
    )
    txt = _doc(tmp_path, "doc1", TEXT, ann)
    document = read_document(txt)
    assert document.id == "doc1"
    assert document.source == str(txt)
    assert document.text == TEXT
    assert [(e.id, e.type, e.fragments) for e in document.entities] == [
        ("T1", "Age", [(2, 13)]),
        ("T2", "Disease", [(22, 26), (37, 43)]),
        ("T3", "Disease", [(31, 43)]),
        ("T4", "Drug", [(53, 60)]),
    ]
    assert [e.line for e in document.entities] == [1, 2, 3, 4]
    assert (document.entities[1].start, document.entities[1].end) == (22, 43)
    assert document.notes["extra_field_after_text"] == 0


def test_doc_id_and_source_can_be_given(tmp_path):
    txt = _doc(tmp_path, "doc1", TEXT, "")
    document = read_document(txt, doc_id="other", source="corpus/doc1.txt")
    assert (document.id, document.source) == ("other", "corpus/doc1.txt")


def test_non_entity_lines_are_read_past(tmp_path):
    ann = (
        "T1\tDisease 22 26\tlung\n"
        "E1\tDisease:T1\n"
        "R1\tRel Arg1:T1 Arg2:T1\n"
        "A1\tNegated T1\n"
        "M1\tNegated T1\n"
        "N1\tReference T1 Wikipedia:123\tlung\n"
        "#1\tAnnotatorNotes T1\tsome note\n"
        "*\tEquiv T1 T1\n"
        "\n"
    )
    document = read_document(_doc(tmp_path, "doc1", TEXT, ann))
    assert [e.id for e in document.entities] == ["T1"]


def test_empty_ann_gives_no_entities(tmp_path):
    assert read_document(_doc(tmp_path, "doc1", TEXT, "")).entities == []


def test_crlf_ann_lines(tmp_path):
    ann = "T1\tAge 2 13\t48-year-old\r\nT2\tDrug 53 60\taspirin\r\n"
    document = read_document(_doc(tmp_path, "doc1", TEXT, ann))
    assert [e.id for e in document.entities] == ["T1", "T2"]


def test_offsets_count_characters_not_bytes(tmp_path):
    text = "naïve β-blocker user\n"
    document = read_document(_doc(tmp_path, "doc1", text, "T1\tDrug 6 15\tβ-blocker\n"))
    assert text[6:15] == "β-blocker"
    assert document.entities[0].fragments == [(6, 15)]


def test_extra_field_after_text_is_tolerated_and_counted(tmp_path):
    ann = "T1\tAge 2 13\t48-year-old\tstray field\nT2\tDrug 53 60\taspirin\n"
    document = read_document(_doc(tmp_path, "doc1", TEXT, ann))
    assert [e.id for e in document.entities] == ["T1", "T2"]
    assert document.notes["extra_field_after_text"] == 1


def test_span_text_may_contain_a_tab_of_the_document(tmp_path):
    document = read_document(_doc(tmp_path, "doc1", "BP\t120/80 mmHg\n", "T1\tLab_value 0 9\tBP\t120/80\n"))
    assert document.entities[0].fragments == [(0, 9)]
    assert document.notes["extra_field_after_text"] == 0


def test_known_entity_types_are_accepted(tmp_path):
    txt = _doc(tmp_path, "doc1", TEXT, "T1\tAge 2 13\t48-year-old\n")
    assert len(read_document(txt, entity_types={"Age", "Drug"}).entities) == 1


@pytest.mark.parametrize(
    ("bad_line", "words"),
    [
        ("T2\tDrug 53 99\taspirin", "outside the text"),
        ("T2\tDrug 60 53\taspirin", "outside the text"),
        ("T2\tDrug 53 60\taspirine", "differs"),
        ("T2\tDisease 22 26;37 43\tlung  cancer", "differs"),
        ("T2\tDrug 53 60", "malformed"),
        ("T2 Drug 53 60\taspirin", "malformed"),
        ("T2\tDrug 53-60\taspirin", "malformed"),
        ("X2\tDrug 53 60\taspirin", "malformed"),
        ("T2\tDisease 22 30;27 43\tlung and cancer", "overlap"),
    ],
)
def test_bad_entity_line_names_the_ann_and_line(tmp_path, bad_line, words):
    ann = "T1\tAge 2 13\t48-year-old\nE1\tAge:T1\n" + bad_line + "\n"
    txt = _doc(tmp_path, "doc1", TEXT, ann)
    error = _error(read_document, txt)
    assert error.path == str(tmp_path / "doc1.ann")
    assert error.line == 3
    assert str(error) == f"{tmp_path / 'doc1.ann'}:3: {error.message}"
    assert words in error.message


def test_unknown_type_names_the_ann_and_line(tmp_path):
    txt = _doc(tmp_path, "doc1", TEXT, "T1\tAge 2 13\t48-year-old\nT2\tDrug 53 60\taspirin\n")
    error = _error(read_document, txt, entity_types={"Age"})
    assert str(error).startswith(f"{tmp_path / 'doc1.ann'}:2: ")
    assert "Drug" in error.message


def test_duplicate_id_names_the_ann_and_line(tmp_path):
    ann = "T1\tAge 2 13\t48-year-old\n#1\tnote\nT1\tDrug 53 60\taspirin\n"
    error = _error(read_document, _doc(tmp_path, "doc1", TEXT, ann))
    assert str(error).startswith(f"{tmp_path / 'doc1.ann'}:3: ")
    assert "duplicate" in error.message


def test_non_utf8_txt_names_the_txt_and_line(tmp_path):
    txt = _doc(tmp_path, "doc1", b"first line\nsecond \xe9 line\n", "")
    error = _error(read_document, txt)
    assert str(error).startswith(f"{txt}:2: ")


def test_non_utf8_ann_names_the_ann_and_line(tmp_path):
    txt = _doc(tmp_path, "doc1", TEXT, b"T1\tAge 2 13\t48-year-old\n#1\tnote \xff\n")
    error = _error(read_document, txt)
    assert str(error).startswith(f"{tmp_path / 'doc1.ann'}:2: ")


def test_empty_txt_is_an_error(tmp_path):
    txt = _doc(tmp_path, "doc1", b"", "")
    assert str(_error(read_document, txt)).startswith(f"{txt}:1: ")


def test_txt_without_ann_is_an_error(tmp_path):
    txt = _doc(tmp_path, "doc1", TEXT, None)
    error = _error(read_document, txt)
    assert error.path == str(txt)
    assert "doc1.ann" in error.message


def test_read_folder_reads_documents_in_name_order(tmp_path):
    _doc(tmp_path, "b", TEXT, "T1\tDrug 53 60\taspirin\n")
    _doc(tmp_path, "a", TEXT, "")
    _doc(tmp_path, "c", "Fever.\n", "T1\tSign 0 5\tFever\n")
    documents = read_folder(tmp_path, entity_types={"Drug", "Sign"})
    assert [d.id for d in documents] == ["a", "b", "c"]
    assert [len(d.entities) for d in documents] == [0, 1, 1]
    assert documents[0].source == str(tmp_path / "a.txt")


def test_read_folder_source_relative_to_root(tmp_path):
    _doc(tmp_path / "corpus" / "train", "a", TEXT, "")
    documents = read_folder(tmp_path / "corpus" / "train", source_root=tmp_path)
    assert documents[0].source == str(Path("corpus") / "train" / "a.txt")


def test_read_folder_ann_without_txt_is_an_error(tmp_path):
    _doc(tmp_path, "a", TEXT, "")
    (tmp_path / "orphan.ann").write_text("T1\tDrug 53 60\taspirin\n", "utf-8")
    error = _error(read_folder, tmp_path)
    assert error.path == str(tmp_path / "orphan.ann")
    assert "orphan.txt" in error.message


def test_read_folder_txt_without_ann_is_an_error(tmp_path):
    _doc(tmp_path, "a", TEXT, "")
    _doc(tmp_path, "b", TEXT, None)
    assert _error(read_folder, tmp_path).path == str(tmp_path / "b.txt")


def test_read_folder_passes_entity_types_on(tmp_path):
    _doc(tmp_path, "a", TEXT, "T1\tDrug 53 60\taspirin\n")
    assert str(_error(read_folder, tmp_path, entity_types={"Age"})).startswith(f"{tmp_path / 'a.ann'}:1: ")


def test_read_folder_without_txt_files_is_an_error(tmp_path):
    (tmp_path / "notes.md").write_text("nothing here\n", "utf-8")
    error = _error(read_folder, tmp_path)
    assert error.path == str(tmp_path)
    assert ".txt" in error.message
