"""One evaluation for every model, and the run's result JSON.

Quality: :func:`entity_bert.scoring.metrics.entity_scores` (seqeval, strict IOB2;
token accuracy). Efficiency: :mod:`entity_bert.training.efficiency`. A model is always
evaluated as it would be deployed: encoder models read word-piece windows
through the live encoder, in the frozen regime too (the feature cache only
speeds up training and validation).

``<runs_dir>/<run name>.json`` holds the corpus, split, label set, model,
regime and seed, the full configuration, test and best-dev scores, the
training history and time, and the efficiency figures.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from pathlib import Path

import torch
import transformers

from entity_bert.core.fileio import atomic_write_text
from entity_bert.data.corpus import Sentence
from entity_bert.models.feature_crf import FeatureCRF, FeatureCRFConfig
from entity_bert.models.registry import input_kind
from entity_bert.runs.config import RunConfig
from entity_bert.runs.data import load_split, split_file, subset_indexes
from entity_bert.runs.model import RunModel, load_trained
from entity_bert.scoring.metrics import entity_scores, sentence_counts
from entity_bert.training.efficiency import measure
from entity_bert.training.engine import Run, predict_indexes

Predictor = Callable[[list[Sentence]], list[list[str]]]


def neural_predictor(run: RunModel) -> Predictor:
    """Tag strings for sentences, through the model's deployable input."""

    def predict(sentences: list[Sentence]) -> list[list[str]]:
        examples = run.examples_for(sentences)
        config = run.config
        indexes = predict_indexes(run.model, examples, config.eval_batch_size, run.device, config.precision)
        return [[run.tags[i] for i in row] for row in indexes]

    return predict


def score(predict: Predictor, sentences: list[Sentence]) -> dict:
    return entity_scores([s.tags for s in sentences], predict(sentences))


def score_test(config: RunConfig, predict: Predictor, test: list[Sentence]) -> tuple[dict, dict]:
    """Test scores, and what a paired bootstrap needs: which sentences, and their counts."""
    gold = [s.tags for s in test]
    predicted = predict(test)
    with split_file(config, "test").open(encoding="utf-8") as handle:
        total = sum(1 for line in handle if line.strip())
    paired = {
        "test_sentences": subset_indexes(config, "test", total),
        "per_sentence": sentence_counts(gold, predicted),
    }
    return entity_scores(gold, predicted), paired


def _record(config: RunConfig, split: str, scores: dict, extra: dict) -> dict:
    return {
        "corpus": config.corpus,
        "split": split,
        "label_set": config.label_set,
        "model": config.model.name,
        "variant": config.variant,
        "cell": config.model.cell,
        "regime": config.regime,
        "seed": config.seed,
        "scores": scores,
        **extra,
        "config": config.to_dict(),
        "environment": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "python": platform.python_version(),
            "machine": platform.machine(),
        },
    }


def write_result(config: RunConfig, record: dict) -> Path:
    atomic_write_text(config.result_path, json.dumps(record, indent=1) + "\n")
    return config.result_path


def train_and_evaluate(config: RunConfig, stop_after_steps: int | None = None) -> dict:
    """Train a run (resuming if it was interrupted), evaluate it on test, write its result JSON."""
    if input_kind(config.model.name) == "features":  # the feature CRF
        return _feature_crf(config)
    run = Run(config)
    state = run.train(stop_after_steps)
    test = load_split(config, "test")
    scores, paired = score_test(config, neural_predictor(run), test)
    efficiency = measure(
        run.model, run.examples_for(test), config.eval_batch_size, run.device, config.efficiency_sentences
    )
    efficiency["training_s"] = state["training_s"]
    extra = {
        "dev_scores": state["best_dev"],
        "best_epoch": state["best_epoch"],
        "epochs_run": state["epoch"],
        "history": state["history"],
        "efficiency": efficiency,
        "tags": run.tags,
        **paired,
    }
    record = _record(config, "test", scores, extra)
    write_result(config, record)
    return record


def predictor_for(config: RunConfig) -> Predictor:
    if input_kind(config.model.name) == "features":  # the feature CRF
        return FeatureCRF.load(config.checkpoint_dir / "best").predict
    return neural_predictor(load_trained(config))


def _feature_crf(config: RunConfig) -> dict:
    model_config = FeatureCRFConfig(
        c1=config.model.crf_c1, c2=config.model.crf_c2, max_iterations=config.model.crf_iterations
    )
    started = time.perf_counter()
    crf = FeatureCRF(model_config).fit(load_split(config, "train"))
    training_s = time.perf_counter() - started
    crf.save(config.checkpoint_dir / "best")
    test = load_split(config, "test")
    scores, paired = score_test(config, crf.predict, test)
    sample = test[: config.efficiency_sentences]
    started = time.perf_counter()
    for sentence in sample:
        crf.predict([sentence])
    latency = (time.perf_counter() - started) / len(sample)
    started = time.perf_counter()
    crf.predict(sample)
    efficiency = {
        "parameters_m": crf.parameter_count() / 1e6,
        "trainable_parameters_m": crf.parameter_count() / 1e6,
        "flops_g": None,  # feature extraction and Viterbi in crfsuite's C code: not counted
        "latency_ms": 1000 * latency,
        "throughput_sentences_per_s": len(sample) / (time.perf_counter() - started),
        "timed_sentences": len(sample),
        "training_s": training_s,
        "device": "cpu",
    }
    dev = score(crf.predict, load_split(config, "dev"))
    record = _record(config, "test", scores, {"dev_scores": dev, "efficiency": efficiency, **paired})
    write_result(config, record)
    return record
