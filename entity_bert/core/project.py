"""The project's root folder, for code whose paths are relative to it (the notebooks).

Papermill runs the notebooks with the root as working directory; JupyterLab
starts a notebook's kernel in the notebook's own folder. Both call
:func:`enter_project` first, so ``params/``, ``data/``, ``checkpoints/`` and
``results/`` mean the same in either.
"""

from __future__ import annotations

import os
from pathlib import Path

MARKER = "dvc.yaml"
ROOT_ONLY = "params"  # pipelines/train/ holds a dvc.yaml too; only the root has params/ beside its own


def project_root(start: str | Path | None = None) -> Path:
    """The project's root: the nearest folder at or above ``start`` (default: cwd) with dvc.yaml, params/."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MARKER).is_file() and (folder / ROOT_ONLY).is_dir():
            return folder
    raise FileNotFoundError(f"no {MARKER} in {here} or above it: not inside the entity-bert project")


def enter_project(start: str | Path | None = None) -> Path:
    """Make the project's root the working directory; return it."""
    root = project_root(start)
    os.chdir(root)
    return root
