"""Seed t-test and paired bootstrap over test sentences (entity_bert.scoring.significance)."""

from __future__ import annotations

import copy
import random
import time

import numpy as np
import pytest
from scipy import stats

from entity_bert.scoring.significance import common_sentences, micro_f1, paired_bootstrap, seed_test

from .study_runs import make_run, make_study_runs


def _runs(corpus: str, system: str, scored: int | None = None, skill: float = 0.5) -> list[dict]:
    return [make_run(corpus, system, seed, skill, scored=scored) for seed in (13, 14, 15)]


def test_micro_f1_from_counts_equals_the_runs_stored_micro_f1():
    runs = make_study_runs()
    assert len({round(r["scores"]["micro"]["f1"], 6) for r in runs}) > 5  # the runs really differ
    for run in runs:
        assert micro_f1(run["per_sentence"]) == pytest.approx(run["scores"]["micro"]["f1"], abs=1e-12)
        counts = run["per_sentence"]
        precision = sum(counts["correct"]) / sum(counts["predicted"])
        assert precision == pytest.approx(run["scores"]["micro"]["precision"], abs=1e-12)


def test_micro_f1_is_zero_when_undefined():
    assert micro_f1({"gold": [2, 1], "predicted": [0, 0], "correct": [0, 0]}) == 0.0
    assert micro_f1({"gold": [0], "predicted": [0], "correct": [0]}) == 0.0
    assert micro_f1({"gold": [2, 2], "predicted": [1, 3], "correct": [1, 2]}) == pytest.approx(0.75)


def test_seed_test_matches_scipy_and_is_none_when_undefined():
    a, b = [0.8, 0.85, 0.9], [0.7, 0.72, 0.81]
    result = seed_test(a, b)
    expected = stats.ttest_rel(a, b)
    assert result["pairs"] == 3
    assert result["delta"] == pytest.approx(np.mean(np.subtract(a, b)))
    assert result["t_statistic"] == pytest.approx(expected.statistic)
    assert result["p"] == pytest.approx(expected.pvalue)
    one = seed_test([0.8], [0.7])
    assert one["delta"] == pytest.approx(0.1) and one["p"] is None and one["t_statistic"] is None
    constant = seed_test([0.8, 0.9], [0.7, 0.8])  # the same difference for every seed
    assert constant["p"] is None
    assert seed_test([], [])["delta"] is None
    with pytest.raises(ValueError, match="pair them by seed"):
        seed_test([0.1, 0.2], [0.1])


def test_bootstrap_p_is_small_when_one_system_is_clearly_better():
    better, worse = (
        _runs("ncbi-disease", "entity-bert", skill=0.95),
        _runs("ncbi-disease", "container", skill=0.2),
    )
    result = paired_bootstrap(better, worse, samples=1000, seed=13)
    assert result["sentences"] == 20 and result["samples"] == 1000
    assert result["delta"] > 0.3
    assert 0 < result["ci_low"] <= result["delta"] <= result["ci_high"]
    assert result["p"] < 0.01
    swapped = paired_bootstrap(worse, better, samples=1000, seed=13)
    assert swapped["delta"] == pytest.approx(-result["delta"])
    assert swapped["p"] == pytest.approx(result["p"])


def test_bootstrap_p_is_one_for_identical_systems_and_large_for_a_one_sentence_difference():
    runs = _runs("ncbi-disease", "bert")
    same = paired_bootstrap(runs, copy.deepcopy(runs), samples=500, seed=1)
    assert same["delta"] == 0.0 and same["ci_low"] == same["ci_high"] == 0.0
    assert same["p"] == 1.0
    # one entity fewer found in one sentence: a slightly lower F1, but a resample
    # leaves that sentence out about a third of the time ((19/20)^20), then delta* = 0
    nearly = copy.deepcopy(runs)
    sentence = next(i for i in range(20) if all(r["per_sentence"]["correct"][i] for r in runs))
    for run in nearly:
        run["per_sentence"]["correct"][sentence] -= 1
    close = paired_bootstrap(runs, nearly, samples=500, seed=1)
    assert close["delta"] > 0
    assert close["p"] > 0.5


def test_bootstrap_uses_the_sentences_both_scored_and_is_reproducible():
    full, subset = _runs("bc5cdr", "entity-bert", skill=0.9), _runs("bc5cdr", "bert", scored=12)
    assert common_sentences([*full, *subset]) == list(range(12))
    result = paired_bootstrap(full, subset, samples=300, seed=7)
    assert result["sentences"] == 12
    on_common = [{k: v[:12] for k, v in run["per_sentence"].items()} for run in full]
    expected = np.mean([micro_f1(c) for c in on_common]) - np.mean(
        [r["scores"]["micro"]["f1"] for r in subset]
    )
    assert result["delta"] == pytest.approx(expected)
    assert paired_bootstrap(full, subset, samples=300, seed=7) == result
    assert paired_bootstrap(full, subset, samples=300, seed=8)["ci_low"] != result["ci_low"]


def test_bootstrap_does_not_depend_on_the_order_sentences_are_stored_in():
    runs_a, runs_b = _runs("anatem", "entity-bert", skill=0.8), _runs("anatem", "bert")
    shuffled = copy.deepcopy(runs_a)
    for run in shuffled:
        order = list(range(len(run["test_sentences"])))
        random.Random(run["seed"]).shuffle(order)
        run["test_sentences"] = [run["test_sentences"][i] for i in order]
        run["per_sentence"] = {k: [v[i] for i in order] for k, v in run["per_sentence"].items()}
    assert paired_bootstrap(shuffled, runs_b, 200, 3) == paired_bootstrap(runs_a, runs_b, 200, 3)


def test_bootstrap_without_common_sentences_gives_no_numbers():
    a, b = _runs("anatem", "entity-bert")[:1], _runs("anatem", "bert")[:1]
    b[0]["test_sentences"] = [s + 100 for s in b[0]["test_sentences"]]
    result = paired_bootstrap(a, b, 100, 1)
    assert result["sentences"] == 0 and result["p"] is None and result["delta"] is None


def _big_run(seed: int, sentences: int, skill: float) -> dict:
    rng = np.random.default_rng(seed)
    gold = rng.integers(0, 4, sentences)
    predicted = rng.integers(0, 4, sentences)
    correct = np.minimum(gold, predicted) * (rng.random(sentences) < skill)
    counts = {"gold": gold.tolist(), "predicted": predicted.tolist(), "correct": correct.tolist()}
    return {"seed": seed, "test_sentences": list(range(sentences)), "per_sentence": counts}


def test_bootstrap_is_fast_for_a_thousand_samples_of_a_thousand_sentences():
    runs_a = [_big_run(s, 1000, 0.9) for s in (1, 2, 3)]
    runs_b = [_big_run(s, 1000, 0.6) for s in (4, 5, 6)]
    started = time.perf_counter()
    result = paired_bootstrap(runs_a, runs_b, samples=1000, seed=13)
    assert time.perf_counter() - started < 1.0
    assert result["sentences"] == 1000 and result["p"] < 0.01
