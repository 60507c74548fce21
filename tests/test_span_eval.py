"""The span-level scorer of the raw-text evaluation path (the whole path runs in the smoke DAG)."""

from __future__ import annotations

import pytest

from entity_bert.data.corpus import Sentence
from entity_bert.report import page as report
from entity_bert.serve import span_eval


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


def test_the_raw_text_benchmark_page_states_each_ratio_against_the_target():
    from entity_bert.study.raw_text_bench import format_result

    row = {"documents": 4, "characters": 4000, "sentences": 40, "seconds": 2.0, "peak_mb": 500.0}
    result = {
        "config": {"split": "test", "corpus": "maccrobat2020", "model": "m", "stride": 64},
        "device": "cpu",
        "threads": 2,
        "measured": {
            "ours_fp32": row,
            "hf_pipeline_documents": {**row, "seconds": 7.0},
            "encoder_alone_bf16": {**row, "seconds": 1.0, "pieces": 900, "padded_pieces": 1000},
        },
        "ratios": {"ours_fp32_vs_hf_pipeline_documents": 3.5, "ours_fp32_vs_hf_pipeline_lines": 2.9},
        "ceilings": {"encoder_alone_bf16_vs_hf_pipeline_documents": 7.0, "the_same_with_no_padding": 7.78},
        "target": ">= 3.0 (ours against the pipeline)",
        "span_f1": {"ours_fp32": {"f1": 0.5}, "ours_bf16": {"f1": 0.49}},
        "bf16_mentions_equal_to_fp32": 0.99,
    }
    page = format_result(result)
    assert "| ours_fp32_vs_hf_pipeline_documents | 3.50 | met |" in page
    assert "| ours_fp32_vs_hf_pipeline_lines | 2.90 | not met |" in page
    assert "| hf_pipeline_documents | 4 | 7.00 | 0.57 | 571 | 500 |" in page
    assert "(900 word pieces, 1000 with padding)" in page and "7.00x the pipeline" in page
