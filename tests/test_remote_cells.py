"""Cells trained on another machine are recorded with the hashes DVC itself would write.

``scripts/remote_cells.py`` hashes a cell's inputs and checkpoint where it trained
(no DVC there) and writes them into the lockfile here; a hash that differed from
DVC's would make every such cell look changed, and retrain it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from entity_bert.study.layout import Layout

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


STUDY = {
    "profile": "full",
    "study": {"run": {"lr": 0.0001}, "system_overrides": {"mrc": {}}},
    "ablation": {
        "corpora": ["tiny"],
        "cells": ["gru"],
        "seeds": [13],
        "regime": "finetune",
        "overrides": {"lr": 0.0001},
        "train_params": "params/train.yaml",
    },
}
TRAIN_STAGE = """
vars:
  - ../../params/study.yaml
stages:
  train:
    matrix: {profile: ["${profile}"], corpus: [tiny], system: [mrc], seed: [13]}
    wdir: ../..
    cmd: python -c "raise SystemExit('trained elsewhere')"
    deps:
      - data/processed/${item.corpus}
      - entity_bert/study/stages.py
      - pipelines/train/code/${item.system}.txt
      - params/train.yaml
    params:
      - params/study.yaml:
          - study.run
          - study.system_overrides.${item.system}
    outs:
      - results/${profile}/runs/${item.corpus}__${item.system}__seed${item.seed}: {cache: false}
      - checkpoints/${profile}/${item.corpus}__${item.system}__seed${item.seed}: {cache: false}
  ablation_run:
    matrix:
      profile: ["${profile}"]
      corpus: ${ablation.corpora}
      cell: ${ablation.cells}
      seed: ${ablation.seeds}
    wdir: ../..
    cmd: python -c "raise SystemExit('trained elsewhere')"
    deps:
      - data/processed/${item.corpus}
      - data/encoder/${profile}
      - entity_bert/study/ablation.py
      - pipelines/train/code/entity-bert.txt
      - params/train.yaml
    params:
      - params/study.yaml:
          - ablation.regime
          - ablation.overrides
          - ablation.train_params
    outs:
      - results/${profile}/ablation/${item.corpus}__${item.cell}__seed${item.seed}: {cache: false}
      - checkpoints/${profile}/ablation/${item.corpus}__${item.cell}__seed${item.seed}: {cache: false}
"""


def _project(root: Path) -> Path:
    """A stand-in for the project: a training cell's stage and the files it depends on."""
    files = {
        "params/study.yaml": yaml.safe_dump(STUDY),
        "params/train.yaml": "train: {lr: 0.0001}\n",
        "data/processed/tiny/all/train.jsonl": '{"words": ["aspirin"], "tags": ["B-Drug"]}\n',
        "entity_bert/study/stages.py": "# the cell's command\n",
        "pipelines/train/code/mrc.txt": "abc  entity_bert/models/mrc.py\n",
        "pipelines/train/code/entity-bert.txt": "def  entity_bert/models/entity_bert.py\n",
        "entity_bert/study/ablation.py": "# a Table 6 run's command\n",
        "data/encoder/full/manifest.json": '{"encoder": "packaged"}\n',
        "pipelines/train/dvc.yaml": TRAIN_STAGE,
    }
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, "utf-8")
    return root


def _trained_there(there: Path, names: tuple[str, ...] = ("tiny__mrc__seed13",)) -> Path:
    """What runs leave where they trained (result and checkpoint), bundled by the script."""
    script = _script()
    (there / "out").mkdir()
    for name in names:
        result, checkpoint = script.folders(Layout.of(STUDY), name)
        (there / result).mkdir(parents=True)
        (there / result / "run.json").write_text('{"f1": 0.5}\n', "utf-8")
        (there / checkpoint / "run" / "best").mkdir(parents=True)
        (there / checkpoint / "run" / "best" / "model.safetensors").write_bytes(os.urandom(1000))
        manifest = script.write_manifest(STUDY, name, {"device": "cuda"}, root=there)
        script._bundle(there / "out", there / result, manifest, root=there)
    return there / "out" / "cells.tar.gz"


def test_a_cell_trained_elsewhere_is_recorded_done_and_its_checkpoint_hash_kept(tmp_path):
    dvc = shutil.which("dvc", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    if dvc is None:
        pytest.skip("dvc is not installed")
    there, here = _project(tmp_path / "there"), _project(tmp_path / "here")
    bundle = _trained_there(there)
    subprocess.run(["git", "init", "-q"], cwd=here, check=True)
    subprocess.run([dvc, "init", "-q"], cwd=here, check=True)
    stage = "pipelines/train/dvc.yaml:train@full-tiny-mrc-13"
    assert _script().record(bundle, root=here) == [stage]
    lock = yaml.safe_load((here / "pipelines" / "train" / "dvc.lock").read_text("utf-8"))
    outs = {out["path"]: out for out in lock["stages"]["train@full-tiny-mrc-13"]["outs"]}
    checkpoint = _script().dvc_hash(there / "checkpoints" / "full" / "tiny__mrc__seed13")
    assert outs["checkpoints/full/tiny__mrc__seed13"]["md5"] == checkpoint["md5"]
    assert (here / "results" / "full" / "runs" / "tiny__mrc__seed13" / "run.json").exists()
    dry = [dvc, "repro", "--dry", "--allow-missing", "--single-item", stage]
    assert (
        "Running stage"
        not in subprocess.run(dry, cwd=here, capture_output=True, text=True, check=True).stdout
    )
    # the same cell against other inputs here: refused, and nothing written
    (here / "data" / "processed" / "tiny" / "all" / "train.jsonl").write_text("{}\n", "utf-8")
    shutil.rmtree(here / "results")
    lockfile = (here / "pipelines" / "train" / "dvc.lock").read_text("utf-8")
    with pytest.raises(SystemExit, match="ran with other inputs: data/processed/tiny"):
        _script().record(bundle, root=here)
    assert not (here / "results").exists()
    assert (here / "pipelines" / "train" / "dvc.lock").read_text("utf-8") == lockfile


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


def test_a_cells_epochs_are_reported_while_it_runs(tmp_path, capsys):
    """A cell cut short at the deadline still tells what its epochs cost: epochs.json and a line each."""
    from entity_bert.study.layout import Layout

    script, layout = _script(), Layout.of({"profile": "full", "study": {}})
    cell = "tiny__template__seed13"
    last = tmp_path / layout.checkpoint_folder(cell) / "tiny__all__template__finetune__seed13" / "last"
    last.mkdir(parents=True)
    state = {"epoch": 1, "best_epoch": 1, "best_f1": 0.3, "training_s": 61.5, "bad_epochs": 0}
    state["history"] = [{"epoch": 1, "loss": 3.5, "dev_f1": 0.3}]
    (last / "state.json").write_text(json.dumps(state), "utf-8")
    states = script.epoch_states(layout, [cell, "tiny__mrc__seed13"], root=tmp_path)
    assert list(states) == [cell] and states[cell]["training_s"] == 61.5
    seen: dict[str, int] = {}
    script._report_epochs(tmp_path, states, seen, began=0.0)
    script._report_epochs(tmp_path, states, seen, began=0.0)  # nothing new: no second line
    assert capsys.readouterr().out.count("tiny__template__seed13: epoch 1, dev F1 0.3000, 62 s") == 1
    assert json.loads((tmp_path / "epochs.json").read_text("utf-8"))[cell]["epoch"] == 1


def test_a_bundled_cell_stays_in_the_bundle_when_its_folder_is_removed_later(tmp_path):
    """The device tool re-copies the working tree at each call: earlier cells' folders may vanish."""
    script, out = _script(), tmp_path / "out"
    out.mkdir()
    for cell in ("a__mrc__seed13", "b__mrc__seed13"):
        folder = tmp_path / "results" / "full" / "runs" / cell
        folder.mkdir(parents=True)
        (folder / f"{cell}.json").write_text('{"f1": 0.5}\n', "utf-8")
        manifest = folder.with_suffix(".remote.json")
        manifest.write_text("{}\n", "utf-8")
        script._bundle(out, folder, manifest, root=tmp_path)
        shutil.rmtree(folder)
        manifest.unlink()
    with tarfile.open(out / "cells.tar.gz") as tar:
        names = {m.name for m in tar.getmembers() if m.isfile()}
    assert names == {
        f"results/full/runs/{cell}{suffix}"
        for cell in ("a__mrc__seed13", "b__mrc__seed13")
        for suffix in (f"/{cell}.json", ".remote.json")
    }


def test_a_table6_run_trained_elsewhere_is_recorded_done_beside_a_study_cell(tmp_path):
    """``ablation/<slot>`` names a Table 6 run: its stage, inputs (the encoder folder too) and settings."""
    dvc = shutil.which("dvc", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    if dvc is None:
        pytest.skip("dvc is not installed")
    there, here = _project(tmp_path / "there"), _project(tmp_path / "here")
    bundle = _trained_there(there, ("tiny__mrc__seed13", "ablation/tiny__gru__seed13"))
    subprocess.run(["git", "init", "-q"], cwd=here, check=True)
    subprocess.run([dvc, "init", "-q"], cwd=here, check=True)
    stages = [
        "pipelines/train/dvc.yaml:train@full-tiny-mrc-13",
        "pipelines/train/dvc.yaml:ablation_run@full-tiny-gru-13",
    ]
    assert _script().record(bundle, root=here) == stages
    assert (here / "results" / "full" / "ablation" / "tiny__gru__seed13" / "run.json").exists()
    for stage in stages:
        dry = [dvc, "repro", "--dry", "--allow-missing", "--single-item", stage]
        answer = subprocess.run(dry, cwd=here, capture_output=True, text=True, check=True).stdout
        assert "Running stage" not in answer
    # trained with other ablation settings than the ones here: refused
    (here / "params" / "study.yaml").write_text(
        yaml.safe_dump({**STUDY, "ablation": {**STUDY["ablation"], "overrides": {"lr": 0.001}}}), "utf-8"
    )
    with pytest.raises(SystemExit, match="other run settings"):
        _script().record(bundle, root=here)
