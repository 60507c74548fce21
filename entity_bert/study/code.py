"""The code each system's training cells depend on: per system, the sha256 of every file of it.

A training cell's numbers follow from its data, its parameters and the code that
trains and scores it. That code is the shared training code (every file under
``entity_bert/{core,data,models,runs,scoring,training}``) less the files only some
systems run, plus the system's own ones (its registry row's ``code``: its model,
the recurrent cells, span decoding, MRC's queries). ``entity-bert study code``
writes one list per system to ``pipelines/train/code/<system>.txt``, and each cell
of ``pipelines/train/dvc.yaml`` depends on its system's list, not on the folders:
changing the template model retrains no Entity-BERT cell, while changing the
training engine retrains them all. A test traces which files each system's
training really runs, so that no list can leave one out.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from entity_bert.core.fileio import atomic_write_text
from entity_bert.models.registry import MODEL_NAMES, SYSTEMS

PACKAGES = ("core", "data", "models", "runs", "scoring", "training")  # under entity_bert/
ROOT = Path(__file__).resolve().parents[2]  # the project: entity_bert/ and params/ are in it


def own_files() -> set[str]:
    """The files that some systems run and others never do (project-relative)."""
    return {path for name in MODEL_NAMES for path in SYSTEMS[name].code}


def shared_files(root: Path = ROOT) -> list[str]:
    """Every training-code file that is no system's own, project-relative, sorted."""
    found = (p for package in PACKAGES for p in (root / "entity_bert" / package).rglob("*.py"))
    return sorted({p.relative_to(root).as_posix() for p in found} - own_files())


def system_files(name: str, root: Path = ROOT) -> list[str]:
    """The files whose content determines a cell of system ``name``: the shared ones and its own."""
    return sorted({*shared_files(root), *SYSTEMS[name].code})


def code_list(name: str, root: Path = ROOT) -> str:
    """``sha256  path`` of each of the system's files, under a header line."""
    lines = [f"# the code of every {name} cell (entity-bert study code): sha256 of each file"]
    for path in system_files(name, root):
        lines.append(f"{hashlib.sha256((root / path).read_bytes()).hexdigest()}  {path}")
    return "\n".join(lines) + "\n"


def write_code_lists(out: str | Path, root: Path = ROOT) -> list[Path]:
    """Write ``<out>/<system>.txt`` for every system of the registry; the paths written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in MODEL_NAMES:
        path = out / f"{name}.txt"
        atomic_write_text(path, code_list(name, root))
        written.append(path)
    return written
