"""One evaluation for every model, and the run's result JSON.

Quality: every decoding of :data:`entity_bert.data.iob2.DECODINGS` (the most
probable valid IOB2 sequence, and each word's argmax) is scored on the test
split by :func:`entity_bert.scoring.metrics.decoding_scores`: seqeval strict
IOB2 with token accuracy, the conlleval reading, the count of invalid
transitions and per-sentence counts. Training validates with the model's own
``decode``, so a run is trained once whatever decoding the tables headline.

Efficiency: :mod:`entity_bert.training.efficiency`. A model is always
evaluated as it would be deployed: encoder models read word-piece windows
through the live encoder, in the frozen regime too (the feature cache only
speeds up training and validation).

``<runs_dir>/<run name>.json`` holds the corpus, split, label set, model,
regime and seed, the full configuration, ``decodings`` (the test figures of
each decoding), ``test_sentences`` (which sentences of the split), best-dev
scores, the training history and time, and the efficiency figures.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from pathlib import Path

import torch
import transformers

from entity_bert.core.device import machine
from entity_bert.core.fileio import atomic_write_text
from entity_bert.data.corpus import Sentence
from entity_bert.data.iob2 import DECODINGS
from entity_bert.models.feature_crf import FeatureCRF, FeatureCRFConfig
from entity_bert.models.registry import input_kind
from entity_bert.runs.config import RunConfig
from entity_bert.runs.data import load_split, split_file, subset_indexes
from entity_bert.runs.model import RunModel, load_trained
from entity_bert.runs.record import done_result
from entity_bert.scoring.metrics import decoding_scores, entity_scores
from entity_bert.training.efficiency import measure
from entity_bert.training.engine import Run, predict_decodings

Predictor = Callable[[list[Sentence]], dict[str, list[list[str]]]]  # sentences -> tags per decoding


def neural_predictor(run: RunModel) -> Predictor:
    """Tag strings for sentences under each decoding, through the model's deployable input."""

    def predict(sentences: list[Sentence]) -> dict[str, list[list[str]]]:
        examples = run.examples_for(sentences)
        config = run.config
        decoded = predict_decodings(run.model, examples, config.eval_batch_size, run.device, run.precision)
        return {name: [[run.tags[i] for i in row] for row in rows] for name, rows in decoded.items()}

    return predict


def score(predict: Predictor, sentences: list[Sentence], decode: str = DECODINGS[0]) -> dict:
    """Strict seqeval scores of one decoding's predictions."""
    return entity_scores([s.tags for s in sentences], predict(sentences)[decode])


def score_test(config: RunConfig, predict: Predictor, test: list[Sentence]) -> dict:
    """The test figures of every decoding, and which sentences of the split they cover (paired bootstrap)."""
    gold = [s.tags for s in test]
    decoded = predict(test)
    with split_file(config, "test").open(encoding="utf-8") as handle:
        total = sum(1 for line in handle if line.strip())
    return {
        "decodings": {name: decoding_scores(gold, decoded[name]) for name in DECODINGS},
        "test_sentences": subset_indexes(config, "test", total),
    }


def _record(
    config: RunConfig, split: str, extra: dict, device: torch.device, precision: str = "fp32"
) -> dict:
    return {
        "corpus": config.corpus,
        "split": split,
        "label_set": config.label_set,
        "model": config.model.name,
        "variant": config.variant,
        "cell": config.model.cell,
        "regime": config.regime,
        "seed": config.seed,
        **extra,
        "config": config.to_dict(),
        "environment": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "python": platform.python_version(),
            "machine": platform.machine(),
            "precision": precision,  # what the run trained and predicted in (`auto` resolved)
            **machine(device),  # CPU model, torch's CPU capability, a matmul rate, the GPU if any
        },
    }


def write_result(config: RunConfig, record: dict) -> Path:
    atomic_write_text(config.result_path, json.dumps(record, indent=1) + "\n")
    return config.result_path


def train_unless_done(config: RunConfig) -> dict:
    """The run's result: read if it is done with this configuration (:func:`done_result`), else trained."""
    done = done_result(config)
    return done if done is not None else train_and_evaluate(config)


def train_and_evaluate(config: RunConfig, stop_after_steps: int | None = None) -> dict:
    """Train a run (resuming if it was interrupted), evaluate it on test, write its result JSON."""
    if input_kind(config.model.name) == "features":  # the feature CRF
        return _feature_crf(config)
    if input_kind(config.model.name) == "trainer":  # the reference: Hugging Face's Trainer recipe
        return _reference(config)
    run = Run(config)
    state = run.train(stop_after_steps)
    test = load_split(config, "test")
    tested = score_test(config, neural_predictor(run), test)
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
        **tested,
    }
    record = _record(config, "test", extra, run.device, run.precision)
    write_result(config, record)
    return record


def predictor_for(config: RunConfig) -> Predictor:
    if input_kind(config.model.name) == "features":  # the feature CRF
        return _every_decoding(FeatureCRF.load(config.checkpoint_dir / "best").predict)
    if input_kind(config.model.name) == "trainer":
        from entity_bert.training.reference import load_reference

        return load_reference(config)
    return neural_predictor(load_trained(config))


def _every_decoding(predict: Callable[[list[Sentence]], list[list[str]]]) -> Predictor:
    """The feature CRF decodes with crfsuite's Viterbi over its learned transitions, whatever the setting.

    Its learned transitions make invalid IOB2 unlikely but not impossible; the
    run records its count of invalid transitions like any other.
    """
    return lambda sentences: dict.fromkeys(DECODINGS, predict(sentences))


def _feature_crf(config: RunConfig) -> dict:
    model_config = FeatureCRFConfig(
        c1=config.model.crf_c1, c2=config.model.crf_c2, max_iterations=config.model.crf_iterations
    )
    started = time.perf_counter()
    crf = FeatureCRF(model_config).fit(load_split(config, "train"))
    training_s = time.perf_counter() - started
    crf.save(config.checkpoint_dir / "best")
    test = load_split(config, "test")
    tested = score_test(config, _every_decoding(crf.predict), test)
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
    dev = entity_scores([s.tags for s in load_split(config, "dev")], crf.predict(load_split(config, "dev")))
    extra = {"dev_scores": dev, "efficiency": efficiency, **tested}
    record = _record(config, "test", extra, torch.device("cpu"), "fp64")  # crfsuite: doubles, on the CPU
    write_result(config, record)
    return record


def _reference(config: RunConfig) -> dict:
    """Train the reference (:mod:`.reference`), score it as every run is scored, write its JSON."""
    from entity_bert.training.reference import timing, train_reference

    reference, state = train_reference(config)
    test = load_split(config, "test")
    reference.cut_words = 0
    tested = score_test(config, reference, test)
    efficiency = timing(reference, test[: config.efficiency_sentences])
    efficiency["training_s"] = state["training_s"]
    extra = {
        "dev_scores": state["dev_scores"],
        "best_epoch": None,  # the recipe keeps its final model: no selection on dev
        "epochs_run": config.epochs,
        "history": state["history"],
        "efficiency": efficiency,
        "tags": reference.tags,
        "truncated_test_words": reference.cut_words,  # predicted O: cut off at 512 word pieces
        **tested,
    }
    record = _record(config, "test", extra, reference.device, reference.precision)
    write_result(config, record)
    return record
