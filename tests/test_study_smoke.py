"""The smoke profile's whole DAG as the README runs it: `dvc repro` from corpora to report, notebooks too.

The project's tracked files are copied into a fresh git repository, with
``params/data.yaml`` cut to the smoke profile's one corpus; then, as the
README writes them (after its line that activates the environment), the smoke
profile is made active (``entity-bert study use smoke``) and ``dvc repro``
runs every stage: fetch (from the corpus mirror), prepare, the tiny random
encoder, cached features, the training matrix, the ablation, the Ray Tune grid
search, Tables 1-6, Figures 5-9, the executed notebooks and the report.
``dvc metrics show`` must fit 80 columns; a second ``dvc repro`` must run
nothing and find data and pipelines up to date, and neither must ``dvc repro
--allow-missing`` (``make study``) once the uncommitted data, checkpoints and
models are gone, as in a fresh clone.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from entity_bert.data import sources
from entity_bert.report.catalogue import TABLE_NAMES
from entity_bert.study import stages as study

ROOT = Path(__file__).resolve().parents[1]
MIRROR = Path(os.environ.get(sources.MIRROR_ENV) or ROOT.parent / "shared" / "corpora").resolve()

pytestmark = pytest.mark.skipif(not MIRROR.is_dir(), reason=f"no corpus mirror at {MIRROR}")


def _copy_project(target: Path) -> None:
    """The files git would commit (tracked, and untracked but not ignored), without results."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if name.startswith("results/") or not source.is_file():
            continue
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / name)
    git = ["git", "-c", "user.name=smoke", "-c", "user.email=smoke@example.org"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "smoke"]):
        subprocess.run(git + command, cwd=target, check=True)


def _activate_line() -> str:
    """The README's line that activates the environment before the stage commands run."""
    lines = [line for line in (ROOT / "README.md").read_text("utf-8").splitlines() if "bin/activate" in line]
    assert lines, "README.md no longer activates the environment"
    return lines[0].split("#")[0].strip()


def _run(command: list[str], cwd: Path) -> str:
    """``command`` as the README runs it: in bash, after its activation line, with no venv on PATH."""
    venv = Path(sys.executable).parent.parent
    if not (cwd / ".venv").exists():
        (cwd / ".venv").symlink_to(venv)  # the copied project's environment is the one running the tests
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if Path(p) != venv / "bin")
    # PYTHONPATH: the copied project's own package, whatever the environment's editable install points to
    env = os.environ | {"PATH": path, sources.MIRROR_ENV: str(MIRROR), "PYTHONPATH": str(cwd)}
    env.pop("VIRTUAL_ENV", None)
    script = f"{_activate_line()} && {shlex.join(command)}"
    done = subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"{script} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done.stdout


def _only_the_profiles_corpora(project: Path) -> None:
    """Fetch and prepare only the corpora the smoke profile trains on (its DAG needs no others)."""
    profile = study.load_profile(project / "params" / "profiles" / "smoke.yaml")
    path = project / "params" / "data.yaml"
    data = yaml.safe_load(path.read_text("utf-8"))
    data["data"]["corpora"] = profile["study"]["corpora"]
    path.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")


def test_the_smoke_profile_runs_the_whole_dag_and_a_second_repro_runs_nothing(tmp_path):
    project = tmp_path / "project"
    _copy_project(project)
    _only_the_profiles_corpora(project)
    _run(["entity-bert", "study", "use", "smoke"], project)
    _run(["dvc", "repro"], project)

    results = project / "results" / "smoke"  # the profile's own folder (entity_bert/study/layout.py)
    for table in TABLE_NAMES:
        assert (results / "tables" / f"{table}.csv").stat().st_size > 0
        assert "claimed" in (results / "tables" / f"{table}.md").read_text("utf-8") or table in (
            "significance",
            "decoding",
            "cells",
            "grid_search",
        )
    for figure in range(5, 10):
        assert len(list((results / "figures").glob(f"figure{figure}_*.png"))) == 1
        assert len(list((results / "figures").glob(f"figure{figure}_*.svg"))) == 1
    notebooks = [project / "results" / "notebooks" / "corpora.ipynb"]  # of the corpora: no profile's
    notebooks += [results / "notebooks" / f"{name}.ipynb" for name in ("results", "explore")]
    for notebook in notebooks:
        cells = json.loads(notebook.read_text("utf-8"))["cells"]
        outputs = [o for c in cells if c["cell_type"] == "code" for o in c.get("outputs", [])]
        assert outputs and not [o for o in outputs if o.get("output_type") == "error"]
    smoke = study.load_profile(project / "params" / "study.yaml")["study"]
    runs = list((results / "runs").glob("*/*.json"))
    assert len(runs) == len(smoke["corpora"]) * len(smoke["systems"]) * len(smoke["seeds"])
    metrics = json.loads((results / "metrics.json").read_text("utf-8"))
    assert set(metrics) == set(smoke["corpora"])
    assert "smoke" in (results / "REPORT.md").read_text("utf-8")
    raw_text = json.loads((results / "raw_text" / "span_eval.json").read_text("utf-8"))
    assert raw_text["agrees"] and raw_text["documents"] > 0  # raw-text path within its tolerance
    report = (results / "REPORT.md").read_text("utf-8")
    assert "## Raw text: span level against token level" in report and "## Decoding:" in report
    assert "## The paper beside the literature" in report

    shown = _run(["dvc", "metrics", "show"], project)
    assert "entity-bert.json" in shown and max(len(line) for line in shown.splitlines()) <= 80

    again = _run(["dvc", "repro"], project)
    assert "Running stage" not in again and "Data and pipelines are up to date." in again

    for uncommitted in ("checkpoints", "data", "models"):  # what a fresh clone lacks
        shutil.rmtree(project / uncommitted)
    fresh = _run(["dvc", "repro", "--allow-missing", "--dry"], project)  # the Makefile's `make study`
    assert "Running stage" not in fresh, fresh
