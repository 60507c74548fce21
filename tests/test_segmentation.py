"""``split_sentences``: tokens are exact slices of the text, line breaks end sentences, nothing is lost."""

from __future__ import annotations

import itertools

import pytest

from entity_bert.data.segmentation import split_sentences

CLINICAL = (
    "A 48-year-old man was admitted.\r\n"
    "Fever of 37.5 °C;\tβ-blocker given to a naïve patient.\r\n"
    "Dr. Smith gave 5 mg i.v. daily. He didn't improve (CRP 12 mg/L).\n"
    "Title without full stop\n"
    "\n"
    "x_y and a—b … done"
)


def _tokens(text: str) -> list[list[str]]:
    return [[text[a:b] for a, b in sentence] for sentence in split_sentences(text)]


@pytest.mark.parametrize(
    "text",
    [
        CLINICAL,
        "Le patient naïve reçoit 2 µg.\n",
        "tabs\tbetween\twords\r\nand CRLF\r\n",
        "  leading and trailing spaces  ",
        "He said \"no\". Then he left. It's O'Neil's.",
    ],
)
def test_every_token_is_an_exact_non_empty_slice(text):
    for sentence in split_sentences(text):
        for start, end in sentence:
            assert 0 <= start < end <= len(text)
            token = text[start:end]
            assert token.strip() == token != ""


@pytest.mark.parametrize(
    "text", [CLINICAL, "Le patient naïve reçoit 2 µg.\n", "x-ray; e.g. (+/-) 10% of 37.5 °C\n"]
)
def test_every_non_whitespace_character_is_covered(text):
    covered = {i for sentence in split_sentences(text) for a, b in sentence for i in range(a, b)}
    missing = [(i, text[i]) for i in range(len(text)) if not text[i].isspace() and i not in covered]
    assert missing == []


def test_tokens_are_in_order_and_disjoint():
    spans = [span for sentence in split_sentences(CLINICAL) for span in sentence]
    assert all(b <= c for (_, b), (c, _) in itertools.pairwise(spans))


def test_hyphenated_words_keep_the_hyphen_as_a_token():
    assert _tokens("A 48-year-old man.") == [["A", "48", "-", "year", "-", "old", "man", "."]]


def test_non_ascii_tokens():
    tokens = [t for sentence in _tokens("Fever of 37.5 °C in a naïve β-blocker user.") for t in sentence]
    assert "37.5" in tokens
    assert "naïve" in tokens
    assert tokens[tokens.index("β") : tokens.index("β") + 3] == ["β", "-", "blocker"]
    assert "".join(tokens[tokens.index("37.5") + 1 : tokens.index("in")]) == "°C"


def test_contraction_is_kept_as_written():
    tokens = [t for sentence in _tokens("He didn't improve.") for t in sentence]
    assert "".join(tokens) == "Hedidn'timprove."


def test_crlf_text_gives_same_tokens_as_lf_text():
    lf = "First line here\nSecond line.\n"
    assert _tokens(lf.replace("\n", "\r\n")) == _tokens(lf)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_line_break_always_ends_a_sentence(newline):
    text = f"Diagnosis{newline}lung cancer of the left lobe{newline}Treatment{newline}chemotherapy"
    assert _tokens(text) == [
        ["Diagnosis"],
        ["lung", "cancer", "of", "the", "left", "lobe"],
        ["Treatment"],
        ["chemotherapy"],
    ]


def test_no_sentence_spans_two_lines():
    line_of = [CLINICAL.count("\n", 0, i) for i in range(len(CLINICAL))]
    for sentence in split_sentences(CLINICAL):
        assert len({line_of[a] for a, _ in sentence}) == 1


def test_full_stops_split_sentences_within_a_line():
    assert _tokens("He has fever. It spread.") == [["He", "has", "fever", "."], ["It", "spread", "."]]


@pytest.mark.parametrize("text", ["", " ", "\n\n", "\r\n\t \r\n"])
def test_blank_text_has_no_sentences(text):
    assert split_sentences(text) == []


def test_no_sentence_is_empty():
    assert all(split_sentences(CLINICAL))
