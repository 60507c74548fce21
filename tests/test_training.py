"""The training engine end to end on a synthetic corpus with a tiny random encoder.

Learnability, determinism, interrupt-and-resume, the frozen regime, every
model through one engine, and the result JSON.
"""

from __future__ import annotations

import inspect
import json
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from entity_bert.core.errors import InputError
from entity_bert.models.registry import MODEL_NAMES, regimes
from entity_bert.report.tables import runs_table
from entity_bert.study.code import ROOT, system_files
from entity_bert.training.engine import Interrupted, Run
from entity_bert.training.evaluation import train_and_evaluate

from .synthetic import synthetic_run_config


def test_entity_bert_learns_the_synthetic_corpus(corpus, tmp_path):
    record = train_and_evaluate(synthetic_run_config(corpus, tmp_path))
    assert record["decodings"]["constrained"]["scores"]["micro"]["f1"] >= 0.9
    saved = json.loads((tmp_path / "runs" / "synth__all__entity-bert__finetune__seed13.json").read_text())
    assert saved["decodings"] == record["decodings"]
    for key in ("corpus", "split", "label_set", "model", "regime", "seed", "config", "efficiency"):
        assert key in saved
    assert (saved["corpus"], saved["split"], saved["regime"], saved["seed"]) == (
        "synth",
        "test",
        "finetune",
        13,
    )
    efficiency = saved["efficiency"]
    assert efficiency["parameters_m"] > efficiency["trainable_parameters_m"] * 0.5 > 0
    assert efficiency["flops_g"] > 0 and efficiency["latency_ms"] > 0 and efficiency["training_s"] > 0
    table = runs_table(tmp_path / "runs")
    headline = record["decodings"]["constrained"]["scores"]["micro"]
    assert len(table) == 1 and table.loc[0, "F1"] == headline["f1"]
    assert table.loc[0, "decoding"] == "constrained"


def test_same_seed_same_metrics_other_seed_other_weights(corpus, tmp_path):
    first = train_and_evaluate(synthetic_run_config(corpus, tmp_path / "a", epochs=2))
    second = train_and_evaluate(synthetic_run_config(corpus, tmp_path / "b", epochs=2))
    assert first["decodings"] == second["decodings"] and first["history"] == second["history"]
    other = train_and_evaluate(synthetic_run_config(corpus, tmp_path / "c", epochs=2, seed=14))
    assert other["history"] != first["history"]


def test_interrupted_run_resumes_to_the_same_result(corpus, tmp_path):
    whole = train_and_evaluate(synthetic_run_config(corpus, tmp_path / "whole", epochs=3))
    interrupted = synthetic_run_config(corpus, tmp_path / "cut", epochs=3)
    steps_per_epoch = -(-120 // 16)
    with pytest.raises(Interrupted):
        train_and_evaluate(interrupted, stop_after_steps=steps_per_epoch + 3)  # in the middle of epoch 2
    state = json.loads((interrupted.checkpoint_dir / "last" / "state.json").read_text())
    assert state["epoch"] == 1
    resumed = train_and_evaluate(interrupted)
    assert resumed["history"] == whole["history"] and resumed["decodings"] == whole["decodings"]
    a = load_file(interrupted.checkpoint_dir / "best" / "model.safetensors")
    b = load_file(
        synthetic_run_config(corpus, tmp_path / "whole").checkpoint_dir / "best" / "model.safetensors"
    )
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_different_configuration_is_refused_in_an_existing_run_folder(corpus, tmp_path):
    train_and_evaluate(synthetic_run_config(corpus, tmp_path, epochs=1))
    with pytest.raises(InputError, match="another configuration"):
        train_and_evaluate(synthetic_run_config(corpus, tmp_path, epochs=1, lr=1e-2))


def test_frozen_regime_caches_features_and_never_changes_the_encoder(corpus, tmp_path):
    config = synthetic_run_config(corpus, tmp_path, regime="frozen", epochs=2)
    run = Run(config)
    before = {k: v.clone() for k, v in run.model.source.word_encoder.state_dict().items()}
    run.train()
    after = run.model.source.word_encoder.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert sorted(p.name.split("-")[0] for p in (tmp_path / "features" / "synth" / "all").iterdir()) == [
        "dev",
        "train",
    ]
    saved = load_file(config.checkpoint_dir / "best" / "model.safetensors")
    assert not any(name.startswith("source.word_encoder.") for name in saved)


def run_traced(work):
    """``work()``'s result, and the project-relative files of entity_bert/ whose functions it ran."""
    ran: set[str] = set()

    def profile(frame, event, arg):
        if event == "call" and frame.f_code.co_flags & inspect.CO_NEWLOCALS:  # a function, not an import
            ran.add(frame.f_code.co_filename)

    sys.setprofile(profile)
    threading.setprofile(profile)
    try:
        result = work()
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
    package = ROOT / "entity_bert"
    return result, {Path(f).relative_to(ROOT).as_posix() for f in ran if Path(f).is_relative_to(package)}


@pytest.mark.parametrize(("name", "regime"), [(m, r) for m in MODEL_NAMES for r in regimes(m)])
def test_every_model_trains_and_evaluates_in_each_of_its_regimes(corpus, tmp_path, name, regime):
    config = synthetic_run_config(
        corpus,
        tmp_path,
        name=name,
        regime=regime,
        epochs=1,
        max_train_sentences=32,
        max_eval_sentences=16,
        efficiency_sentences=8,
    )  # the plumbing of every model; learning is tested per model on the whole synthetic corpus
    if regime == regimes(name)[0]:  # traced once a model (tracing is slow): which files does it run?
        record, ran = run_traced(lambda: train_and_evaluate(config))
        # its cells' DVC stages depend on its code list (study/code.py): every file it ran is on it
        assert ran - set(system_files(name)) == set()
    else:
        record = train_and_evaluate(config)
    assert record["model"] == name and record["regime"] == regime
    constrained = record["decodings"]["constrained"]
    assert 0.0 <= constrained["scores"]["micro"]["f1"] <= 1.0
    assert constrained["invalid_transitions"] == 0  # every model, every regime: valid IOB2 under constrained
    assert constrained["conlleval"]["micro"] == constrained["scores"]["micro"]  # so both readings agree
    assert record["efficiency"]["parameters_m"] > 0


def test_unknown_regime_for_a_model_is_refused(corpus, tmp_path):
    with pytest.raises(ValueError, match="trains in"):
        synthetic_run_config(corpus, tmp_path, name="bilstm-crf", regime="frozen")


def test_the_linear_schedule_decays_each_group_to_zero_as_hugging_face_does():
    from entity_bert.training.engine import decay_lr

    weights = [torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))]
    optimizer = torch.optim.Adam(
        [
            {"params": weights[:1], "lr": 1e-3, "initial_lr": 1e-3},
            {"params": weights[1:], "lr": 5e-5, "initial_lr": 5e-5},
        ]
    )
    seen = []
    for step in range(4):
        decay_lr(optimizer, step, 4)
        seen += [group["lr"] for group in optimizer.param_groups]
    assert seen == pytest.approx([1e-3, 5e-5, 7.5e-4, 3.75e-5, 5e-4, 2.5e-5, 2.5e-4, 1.25e-5])


def test_top_regime_trains_only_the_top_layers_over_cached_lower_states(corpus, tmp_path):
    config = synthetic_run_config(
        corpus, tmp_path, name="bert", regime="top", epochs=2, model={"trainable_layers": 1}
    )
    run = Run(config)
    encoder = run.model.source.word_encoder.encoder
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    run.train()
    after = encoder.state_dict()
    fixed = [k for k in before if k.startswith(("embeddings.", "encoder.layer.0."))]
    top = [k for k in before if k.startswith("encoder.layer.1.")]
    assert fixed and all(torch.equal(before[k], after[k]) for k in fixed)  # the cached part never changes
    assert any(not torch.equal(before[k], after[k]) for k in top)  # the top layer trains
    cached = sorted(
        p.name.split("-")[0] for p in (tmp_path / "features" / "synth" / "all").glob("*-lower1-*")
    )
    assert cached == ["dev", "train"]
    # the cached lower states give the same word states as running the whole encoder
    examples = run.examples("dev", cached=True)[:4]
    from entity_bert.models.batching import collate

    run.model.eval()
    with torch.no_grad():
        from_cache = run.model.source(collate(examples))
        live = run.model.source(collate([replace(e, lower=None) for e in examples]))
    torch.testing.assert_close(from_cache, live, atol=1e-5, rtol=1e-5)
