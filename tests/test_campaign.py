"""The campaign script resumes a cell cut short only while the cell's inputs are unchanged.

A tiny git + DVC repository in a temporary folder stands in for the project:
an upstream stage makes a data folder, and a "cell" stage depends on it, on a
file and on a parameter, with a result folder and a checkpoint folder as
outputs, like the study's training cells.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "campaign.py"
CELL = "cell"

# the cell "trains": it counts its epochs in last/state.json and writes a result at the end
TRAIN = """
import json, pathlib, sys
last = pathlib.Path("checkpoints/cell/run/last"); last.mkdir(parents=True, exist_ok=True)
state = last / "state.json"
epoch = json.loads(state.read_text())["epoch"] if state.exists() else 0
state.write_text(json.dumps({"epoch": epoch + 1}))
pathlib.Path("results/cell").mkdir(parents=True, exist_ok=True)
pathlib.Path("results/cell/result.json").write_text(json.dumps({"epochs": epoch + 1}))
"""


@pytest.fixture
def campaign(tmp_path, monkeypatch):
    bin_dir = str(Path(sys.executable).parent)  # the environment's dvc, also when it is not on PATH
    monkeypatch.setenv("PATH", os.pathsep.join([bin_dir, os.environ.get("PATH", "")]))
    if shutil.which("dvc") is None:
        pytest.skip("dvc is not installed")
    spec = importlib.util.spec_from_file_location("campaign", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "ROOT", tmp_path)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.py").write_text(TRAIN, "utf-8")
    (tmp_path / "code.txt").write_text("version 1\n", "utf-8")
    (tmp_path / "params.yaml").write_text("run:\n  lr: 0.1\n", "utf-8")
    python = sys.executable
    make_data = f"{python} -c \"import os; os.makedirs('data/part', exist_ok=True)\""
    stages = {
        "data": {"cmd": make_data, "outs": ["data"]},
        CELL: {
            "cmd": f"{python} train.py",
            "deps": ["data/part", "code.txt", "train.py"],  # inside an output, as data/processed/<corpus> is
            "params": ["run"],
            "outs": [{"results/cell": {"cache": False}}, {"checkpoints/cell": {"cache": False}}],
        },
    }
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump({"stages": stages}), "utf-8")
    for command in (["git", "init", "-q"], ["dvc", "init", "-q"]):
        subprocess.run(command, cwd=tmp_path, check=True)
    return module


def cut_short(tmp_path: Path) -> None:
    """What a session's end leaves: an epoch checkpoint and no result."""
    shutil.rmtree(tmp_path / "results" / "cell")


def test_a_cell_cut_short_resumes_from_its_checkpoint_and_is_recorded(campaign, tmp_path):
    assert campaign.start(CELL, dry=False) == 0
    assert (tmp_path / "data" / "part").is_dir()  # made first, so that the record holds its hash
    cut_short(tmp_path)
    seen, folder = campaign.inputs(CELL)
    assert campaign.resumable(seen, folder)
    assert campaign.resume(CELL, seen["cmd"], dry=False) == 0
    result = (tmp_path / "results" / "cell" / "result.json").read_text("utf-8")
    assert result == '{"epochs": 2}'  # the second epoch, after the first: resumed, not started again
    lock = yaml.safe_load((tmp_path / "dvc.lock").read_text("utf-8"))
    assert CELL in lock["stages"]


@pytest.mark.parametrize("change", ["code", "parameter", "no record", "no checkpoint"])
def test_a_cell_whose_inputs_changed_is_not_resumed(campaign, tmp_path, change, capsys):
    assert campaign.start(CELL, dry=False) == 0
    cut_short(tmp_path)
    folder = tmp_path / "checkpoints" / "cell"
    if change == "code":
        (tmp_path / "code.txt").write_text("version 2\n", "utf-8")
    elif change == "parameter":
        (tmp_path / "params.yaml").write_text("run:\n  lr: 0.2\n", "utf-8")
    elif change == "no record":
        campaign._record(folder).unlink()
    else:
        shutil.rmtree(folder / "run" / "last")
    capsys.readouterr()
    assert not campaign.resumable(*campaign.inputs(CELL))
    named = {"code": "code.txt", "parameter": "params.yaml"}.get(change)
    if named:  # the campaign says which input changed, so a lost resume is explained
        assert f"changed since it started: {named}" in capsys.readouterr().out


def test_systems_and_corpora_keep_only_their_training_cells():
    spec = importlib.util.spec_from_file_location("campaign_cells", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    profile = {
        "profile": "p",
        "study": {"seeds": [13, 14], "systems": ["bert", "mrc", "template"], "corpora": ["a", "b", "c"]},
        "ablation": {"seeds": [13], "cells": ["lstm"], "corpora": ["a"]},
    }
    stages = module.cells(profile, 3, only=["mrc"], corpora=["a", "c"])
    assert [stage.split(":")[-1] for stage in stages] == ["train@p-a-mrc-14", "train@p-c-mrc-14"]
    assert len(module.cells(profile, 2)) == 6  # mrc and template, every corpus, first seed
    assert module.cells(profile, 4, corpora=["b"]) == module.cells(profile, 4)  # Table 6's runs are kept


def test_the_grid_ledger_is_committed_while_the_sweep_still_runs(campaign, tmp_path, monkeypatch):
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_NAME", "campaign test")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "campaign@example.org")
    for lockfile in ("dvc.lock", "pipelines/train/dvc.lock", "pipelines/train/code/bert.txt"):  # as committed
        (tmp_path / lockfile).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / lockfile).write_text("", "utf-8")
    sweep = (
        "import pathlib, time; ledger = pathlib.Path('results/full/grid'); ledger.mkdir(parents=True); "
        "(ledger / 'lr0.001.json').write_text('{}'); time.sleep(3); print('still running')"
    )
    assert campaign.run_committing([sys.executable, "-c", sweep], "trials so far", dry=False, every_s=1) == 0
    tracked = subprocess.run(["git", "ls-files"], cwd=tmp_path, capture_output=True, text=True).stdout
    assert "results/full/grid/lr0.001.json" in tracked.split()
    subjects = subprocess.run(["git", "log", "--format=%s"], cwd=tmp_path, capture_output=True, text=True)
    assert "trials so far" in subjects.stdout
    failing = [sys.executable, "-c", "raise SystemExit(3)"]
    assert campaign.run_committing(failing, "never", dry=False, every_s=1) == 3
