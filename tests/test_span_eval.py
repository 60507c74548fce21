"""The span-level scorer of the raw-text evaluation path (the whole path runs in the smoke DAG)."""

from __future__ import annotations

import pytest

from entity_bert import report, span_eval
from entity_bert.corpus import Sentence


def test_span_scores_count_exact_span_and_type_only():
    gold = {("d", 0, 7, "Drug"), ("d", 12, 18, "Disease"), ("e", 0, 4, "Drug")}
    predicted = {("d", 0, 7, "Drug"), ("d", 12, 17, "Disease"), ("e", 0, 4, "Disease")}
    scores = span_eval.span_scores(gold, predicted)
    assert scores["micro"]["precision"] == pytest.approx(1 / 3)
    assert scores["micro"]["recall"] == pytest.approx(1 / 3)
    assert scores["per_type"]["Drug"] == {
        "precision": 1.0,
        "recall": 0.5,
        "f1": pytest.approx(2 / 3),
        "support": 2,
        "predicted": 1,
    }
    assert scores["per_type"]["Disease"]["f1"] == 0.0
    assert span_eval.span_scores(set(), set())["micro"]["f1"] == 0.0


def test_sentence_spans_read_tags_as_seqeval_strict_and_map_to_characters():
    sentence = Sentence(
        ["took", "beta", "blockers", "for", "asthma"],
        ["O"] * 5,
        [(10, 14), (15, 19), (20, 28), (29, 32), (33, 39)],
        "x.txt",
        doc="d",
    )
    tags = ["O", "B-Drug", "I-Drug", "O", "I-Disease"]  # the lone I-Disease is no entity in strict IOB2
    assert span_eval.sentence_spans([sentence], [tags]) == {("d", 15, 28, "Drug")}


def test_the_report_includes_the_raw_text_check_when_it_ran(tmp_path):
    assert report.raw_text_section(tmp_path) == []
    (tmp_path / "span_eval.md").write_text("# Title\n\nModel: x.\n", "utf-8")
    assert report.raw_text_section(tmp_path) == [
        "## Raw text: span level against token level",
        "",
        "Model: x.\n",
    ]
