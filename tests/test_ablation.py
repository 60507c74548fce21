"""The RNN ablation: every recurrent layer inside Entity-BERT through one engine, and Table 6."""

from __future__ import annotations

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
