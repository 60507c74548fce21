"""Cells trained on another machine are recorded with the hashes DVC itself would write.

``scripts/remote_cells.py`` hashes a cell's inputs and checkpoint where it trained
(no DVC there) and writes them into the lockfile here; a hash that differed from
DVC's would make every such cell look changed, and retrain it.
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

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "remote_cells.py"


def _script():
    spec = importlib.util.spec_from_file_location("remote_cells", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _dvc_add(root: Path, name: str) -> dict:
    """What ``dvc add`` records for ``root/name``."""
    dvc = shutil.which("dvc", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    if dvc is None:
        pytest.skip("dvc is not installed")
    subprocess.run([dvc, "init", "--no-scm", "-q"], cwd=root, check=True)
    subprocess.run([dvc, "add", "-q", name], cwd=root, check=True)
    return yaml.safe_load((root / f"{name}.dvc").read_text("utf-8"))["outs"][0]


def test_a_folder_is_hashed_as_dvc_hashes_it(tmp_path):
    folder = tmp_path / "checkpoint"
    (folder / "run" / "best").mkdir(parents=True)
    (folder / "run" / "best" / "model.safetensors").write_bytes(os.urandom(3000))
    (folder / "run" / "config.json").write_text('{"a": 1}\n', "utf-8")
    (folder / "b.txt").write_text("later in order than run/ but not in a walk\n", "utf-8")
    ours = _script().dvc_hash(folder)
    theirs = _dvc_add(tmp_path, "checkpoint")
    assert ours["md5"].endswith(".dir")
    assert (ours["md5"], ours["nfiles"], ours["size"]) == (theirs["md5"], theirs["nfiles"], theirs["size"])


def test_a_file_is_hashed_as_dvc_hashes_it(tmp_path):
    (tmp_path / "train.yaml").write_text("train:\n  lr: 1.0e-4\n", "utf-8")
    ours = _script().dvc_hash(tmp_path / "train.yaml")
    assert ours["md5"] == _dvc_add(tmp_path, "train.yaml")["md5"]


def test_a_slot_names_its_stage():
    script = _script()
    assert script.stage_name("full", "ncbi-disease__mrc__seed13") == (
        "pipelines/train/dvc.yaml:train@full-ncbi-disease-mrc-13"
    )
    with pytest.raises(ValueError, match="not a cell's slot"):
        script.parse_slot("ncbi-disease__mrc__13")


def test_past_the_deadline_no_cell_starts_and_the_call_returns(tmp_path):
    command = [sys.executable, str(SCRIPT), "train", "--cells", "ncbi-disease__mrc__seed13"]
    command += ["--deadline", "-1", "--out", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert "finished 0, failed or stopped 0, not started 1" in done.stdout
    assert done.returncode == 1  # nothing finished
    assert not (tmp_path / "cells.tar.gz").exists()
