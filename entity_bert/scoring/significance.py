"""Is Entity-BERT's F1 really different from another system's? Two significance tests.

The study's tables compare systems by their mean test F1 over seeds. Two
questions lie behind a difference of means, and each has its test here:

- :func:`seed_test`: would the difference hold for other training seeds? A
  paired t-test across seeds (the run of system A with seed 13 paired with
  the run of system B with seed 13, and so on).
- :func:`paired_bootstrap`: would it hold for other test sentences? The
  paired bootstrap over test sentences (Koehn 2004; Berg-Kirkpatrick et al.
  2012): resample the test sentences with replacement, score both systems on
  the same resample, and look at how the difference of F1 varies.

Both read a run's entity counts per test sentence (``per_sentence``: gold,
predicted and correct entities, seqeval strict IOB2, aligned with
``test_sentences``); summed over sentences they give the run's micro scores
(:func:`micro_f1`). ``entity_bert.report.study_tables`` applies the tests to every
corpus and system of the study.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

COUNT_KEYS = ("gold", "predicted", "correct")
TIES = 1e-12  # differences across seeds that vary less than this count as constant (rounding only)


def micro_f1(counts: dict) -> float:
    """Micro F1 from per-sentence entity counts (``gold``, ``predicted``, ``correct`` lists).

    Precision = correct / predicted and recall = correct / gold over all the
    sentences given; undefined ratios are 0, as in ``entity_bert.scoring.metrics``.
    """
    totals = np.array([[np.sum(counts[key]) for key in COUNT_KEYS]], dtype=float)
    return float(_f1(totals)[0])


def _f1(totals: np.ndarray) -> np.ndarray:
    """F1 for every row of ``totals`` (columns: gold, predicted, correct), zeros where undefined."""
    gold, predicted, correct = totals[..., 0], totals[..., 1], totals[..., 2]
    precision = np.divide(correct, predicted, out=np.zeros_like(correct), where=predicted > 0)
    recall = np.divide(correct, gold, out=np.zeros_like(correct), where=gold > 0)
    both = precision + recall
    return np.divide(2 * precision * recall, both, out=np.zeros_like(both), where=both > 0)


def seed_test(a: list[float], b: list[float]) -> dict:
    """Paired t-test across seeds: ``a[i]`` and ``b[i]`` come from runs with the same seed.

    Returns ``pairs``, ``mean_a``, ``mean_b``, ``delta`` (mean of a - b),
    ``t_statistic`` and the two-sided ``p`` of ``scipy.stats.ttest_rel``.
    The statistic and ``p`` are None (not NaN) with fewer than two pairs or
    when the differences do not vary beyond floating-point rounding (the test
    is undefined); the means are None without pairs.
    """
    if len(a) != len(b):
        raise ValueError(f"{len(a)} scores for a but {len(b)} for b: pair them by seed first")
    first, second = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    result = {
        "pairs": len(first),
        "mean_a": None,
        "mean_b": None,
        "delta": None,
        "t_statistic": None,
        "p": None,
    }
    if len(first) == 0:
        return result
    differences = first - second
    result |= {
        "mean_a": float(first.mean()),
        "mean_b": float(second.mean()),
        "delta": float(differences.mean()),
    }
    if len(first) >= 2 and np.std(differences) > TIES:
        test = stats.ttest_rel(first, second)
        result |= {"t_statistic": float(test.statistic), "p": float(test.pvalue)}
    return result


def common_sentences(runs: list[dict]) -> list[int]:
    """The test sentences (indexes into the processed test split) that every run scored, sorted."""
    if not runs:
        return []
    shared = set(runs[0]["test_sentences"])
    for run in runs[1:]:
        shared &= set(run["test_sentences"])
    return sorted(shared)


def count_matrix(run: dict, sentences: list[int]) -> np.ndarray:
    """The run's gold, predicted and correct entity counts on ``sentences``: shape (sentences, 3)."""
    position = {sentence: i for i, sentence in enumerate(run["test_sentences"])}
    rows = [position[sentence] for sentence in sentences]
    columns = [np.asarray(run["per_sentence"][key], dtype=float)[rows] for key in COUNT_KEYS]
    return np.stack(columns, axis=1) if rows else np.zeros((0, 3))


def _resample_weights(sentences: int, samples: int, seed: int) -> np.ndarray:
    """How often each sentence is drawn in each resample: shape (samples, sentences)."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, sentences, size=(samples, sentences))
    offsets = draws + sentences * np.arange(samples)[:, None]
    return np.bincount(offsets.ravel(), minlength=samples * sentences).reshape(samples, sentences)


def _mean_f1(weights: np.ndarray, counts: list[np.ndarray]) -> np.ndarray:
    """Per resample (row of ``weights``), the F1 of each run averaged over the runs."""
    f1 = [_f1(weights @ run_counts) for run_counts in counts]
    return np.mean(f1, axis=0)


def paired_bootstrap(runs_a: list[dict], runs_b: list[dict], samples: int, seed: int) -> dict:
    """Paired bootstrap over test sentences: system A's mean F1 minus system B's.

    Uses the sentences that every run of both systems scored. A system's F1
    on a set of sentences is the micro F1 of each of its runs (seeds) from the
    summed per-sentence counts, averaged over its runs. Each of ``samples``
    resamples draws that many sentences with replacement (a numpy Generator
    seeded by ``seed``), the same draw for both systems (hence "paired"), and
    gives one difference delta*.

    Returns:

    - ``delta``: the observed difference on the common sentences;
    - ``ci_low``, ``ci_high``: the 95% percentile interval of delta*;
    - ``p``: min(1, 2 min(P(delta* <= 0), P(delta* >= 0))), the two-sided
      p-value of "no difference" under the percentile bootstrap: twice the
      share of resamples in which the difference vanishes or changes sign,
      each share counted as (k + 1) / (samples + 1) so that a finite number of
      resamples never claims p = 0 (Davison and Hinkley 1997, section 4.2).
      It is small when A beats B (or B beats A) on nearly every resample of
      the test sentences, and near 1 when the sign of the difference depends
      on which sentences happen to be in the test set. It speaks to the test
      sentences only, not to training seeds (see :func:`seed_test`);
    - ``sentences`` (common sentences) and ``samples``.

    Without common sentences, the numbers are None.
    """
    sentences = common_sentences([*runs_a, *runs_b])
    result = {"delta": None, "ci_low": None, "ci_high": None, "p": None}
    result |= {"sentences": len(sentences), "samples": samples}
    if not sentences or not runs_a or not runs_b:
        return result
    counts_a = [count_matrix(run, sentences) for run in runs_a]
    counts_b = [count_matrix(run, sentences) for run in runs_b]
    observed = np.ones((1, len(sentences)))
    delta = _mean_f1(observed, counts_a)[0] - _mean_f1(observed, counts_b)[0]
    weights = _resample_weights(len(sentences), samples, seed)
    deltas = _mean_f1(weights, counts_a) - _mean_f1(weights, counts_b)
    low, high = np.percentile(deltas, [2.5, 97.5])
    share = [(np.sum(side) + 1) / (samples + 1) for side in (deltas <= 0, deltas >= 0)]
    p = min(1.0, 2 * min(share))
    return result | {"delta": float(delta), "ci_low": float(low), "ci_high": float(high), "p": float(p)}
