"""The RNN ablation: every recurrent layer inside Entity-BERT through one engine, and Table 6."""

from __future__ import annotations

from pathlib import Path

from entity_bert.report.tables import write_table6
from entity_bert.study.ablation import AblationSettings, ablation_configs, run_ablation

from .synthetic import write_synthetic_corpus

CELLS = ["lstm", "gru", "sru", "indrnn", "gfrnn"]


def _settings(tmp_path) -> AblationSettings:
    overrides = {
        "epochs": 1,
        "lr": 3e-3,
        "batch_size": 16,
        "encoder": {"name": "tiny-random"},
        "processed_dir": str(tmp_path / "processed"),
        "features_dir": str(tmp_path / "features"),
        "checkpoints_dir": str(tmp_path / "checkpoints"),
        "runs_dir": str(tmp_path / "runs"),
    }
    return AblationSettings(corpora=["synth"], cells=CELLS, seeds=[13], overrides=overrides)


def test_every_cell_trains_and_table6_sets_ours_beside_the_claims(tmp_path):
    write_synthetic_corpus(tmp_path / "processed")
    settings = _settings(tmp_path)
    records = run_ablation(settings)
    settings.cells, settings.seeds = ["lstm"], [14]  # a second seed for one cell: a standard deviation
    records += run_ablation(settings)
    assert sorted({r["cell"] for r in records}) == sorted(CELLS) and len(records) == 6
    frame = write_table6(records, tmp_path / "tables")
    measured = frame[frame.source == "measured"].set_index("method")
    assert len(measured) == 5
    lstm = measured.loc["LSTM (Entity-BERT as proposed)"]
    assert lstm.seeds == "13 14" and lstm.f1_std >= 0
    assert measured.loc["SRU", "seeds"] == "13"
    claimed = frame[frame.source != "measured"]
    assert set(claimed.corpus) == {"ACE 2004", "ACE 2005"}
    assert "claimed" in (tmp_path / "tables" / "table6_rnn_ablation.md").read_text()


def test_table6_is_refused_where_a_corpus_is_not_prepared_rather_than_drawn_without_its_runs(tmp_path):
    from entity_bert.cli import unprepared_corpora

    settings = _settings(tmp_path)
    assert unprepared_corpora(settings) == ["synth"]  # its label set, hence its result files, unknown here
    write_synthetic_corpus(tmp_path / "processed")
    assert unprepared_corpora(settings) == []


def test_finished_runs_are_not_run_again(tmp_path, monkeypatch):
    write_synthetic_corpus(tmp_path / "processed")
    settings = _settings(tmp_path)
    settings.cells, settings.seeds = ["sru"], [13]
    first = run_ablation(settings)
    monkeypatch.setattr("entity_bert.training.evaluation.train_and_evaluate", lambda config: 1 / 0)
    assert run_ablation(settings) == first
    assert len(ablation_configs(settings)) == 1


def test_a_setting_added_later_with_its_default_keeps_finished_runs_done(tmp_path):
    import json

    from entity_bert.runs.record import is_done

    write_synthetic_corpus(tmp_path / "processed")
    settings = _settings(tmp_path)
    settings.cells, settings.seeds = ["gru"], [13]
    (config,) = ablation_configs(settings)
    stored = {"config": config.to_dict()}
    del stored["config"]["model"]["container_dim"]  # as written before the setting existed
    config.result_path.parent.mkdir(parents=True)
    config.result_path.write_text(json.dumps(stored))
    assert is_done(config)
    stored["config"]["model"]["hidden"] = 7  # a setting that differs: not done
    config.result_path.write_text(json.dumps(stored))
    assert not is_done(config)


def _profile_with_twins(tmp_path, ablation_lr: float) -> AblationSettings:
    """A profile whose study trains Entity-BERT on ``synth`` and whose ablation runs the LSTM and the GRU."""
    import yaml

    run = {"epochs": 1, "lr": 3e-3, "batch_size": 16, "max_train_sentences": 40, "efficiency_sentences": 5}
    train_params = str(Path(__file__).parents[1] / "params" / "train.yaml")
    profile = {
        "profile": "t",
        "study": {
            "corpora": ["synth"],
            "systems": ["entity-bert"],
            "seeds": [13],
            "encoder": "tiny-random",
            "train_params": train_params,
            "run": run,
            "system_overrides": {"entity-bert": {}},
        },
        "ablation": {
            "corpora": ["synth"],
            "cells": ["lstm", "gru"],
            "seeds": [13],
            "regime": "finetune",
            "overrides": {**run, "lr": ablation_lr, "encoder": {"name": "data/encoder/t"}},
            "train_params": train_params,
        },
    }
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(profile), "utf-8")
    return AblationSettings.load(path)


def test_an_lstm_run_the_study_has_done_is_taken_over_not_trained_again(tmp_path, monkeypatch):
    import entity_bert.training.evaluation as evaluation
    from entity_bert.study.ablation import finished, study_twin
    from entity_bert.study.stages import train_run, write_encoder

    monkeypatch.chdir(tmp_path)  # the profile's folders (data/, results/, checkpoints/) are relative
    write_synthetic_corpus(tmp_path / "data" / "processed")
    settings = _profile_with_twins(tmp_path, ablation_lr=3e-3)
    write_encoder(settings.profile)
    study_record = train_run(settings.profile, "synth", "entity-bert", 13)
    trained = []
    real_training = evaluation.train_and_evaluate
    monkeypatch.setattr(
        evaluation, "train_and_evaluate", lambda c: trained.append(c.model.cell) or real_training(c)
    )

    records = run_ablation(settings)
    assert trained == ["gru"]  # the LSTM run is the study's Entity-BERT run: not trained a second time
    lstm = next(r for r in records if r["cell"] == "lstm")
    (config, _) = ablation_configs(settings)
    assert lstm["decodings"] == study_record["decodings"] and lstm["history"] == study_record["history"]
    assert lstm["same_run_as"] == str(study_twin(settings, config).result_path)
    assert lstm["config"] == config.to_dict() and "study" not in lstm
    assert (config.checkpoint_dir / "same_run.json").is_file()  # the stage's checkpoint output exists
    assert len(finished(settings)) == 2 and run_ablation(settings) == records and trained == ["gru"]


def test_a_study_run_with_other_settings_is_not_the_ablations(tmp_path):
    from entity_bert.study.ablation import study_twin

    same = _profile_with_twins(tmp_path, ablation_lr=3e-3)
    lstm, gru = ablation_configs(same)
    assert study_twin(same, lstm) is not None and study_twin(same, gru) is None
    other = _profile_with_twins(tmp_path, ablation_lr=1e-3)
    assert study_twin(other, ablation_configs(other)[0]) is None
    assert study_twin(_settings(tmp_path), lstm) is None  # no profile, no study runs
