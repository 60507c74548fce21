"""``entity-bert bench`` end to end at toy scale: every measurement runs and the ratios follow from them."""

from __future__ import annotations

import json
import operator

import pytest

from entity_bert.study.bench import BenchConfig, bench, in_fresh_process

from .synthetic import write_synthetic_corpus


@pytest.mark.slow
def test_bench_measures_both_sides_and_writes_its_report(tmp_path):
    write_synthetic_corpus(tmp_path / "processed")
    config = BenchConfig(
        corpus="synth",
        train_sentences=32,
        test_sentences=20,
        batch_size=8,
        eval_batch_size=8,
        epochs=1,
        encoder="tiny-random",
        processed_dir=str(tmp_path / "processed"),
        out_dir=str(tmp_path / "bench"),
        isolated=False,  # the rows' code, not their isolation: fresh processes cost seconds each
    )
    result = bench(config)
    measured = result["measured"]
    assert all(row["seconds"] > 0 and row["peak_mb"] > 0 for row in measured.values())
    assert (
        measured["entity_bert_predict_fp32"]["sentences"]
        == measured["hf_pipeline_fp32_batch_1"]["sentences"]
        == 20
    )
    assert (
        measured["entity_bert_epoch_fp32"]["sentences"]
        == measured["hf_trainer_epoch_fp32"]["sentences"]
        == 32
    )
    expected = measured["entity_bert_epoch_fp32"]["seconds"] / measured["hf_trainer_epoch_fp32"]["seconds"]
    assert result["ratios"]["epoch_time_fp32_vs_trainer_fp32"] == pytest.approx(expected)
    assert 0.0 <= result["bf16_tag_agreement_with_fp32"] <= 1.0
    saved = json.loads((tmp_path / "bench" / "bench.json").read_text())
    assert saved["ratios"] == result["ratios"]
    page = (tmp_path / "bench" / "bench.md").read_text()
    assert "throughput_bf16_vs_pipeline_default" in page and "all rows in one process" in page


def test_a_fresh_process_returns_what_the_function_computed():
    assert in_fresh_process(operator.mul, 6, 7) == 42
