"""The notebooks find the project's root wherever their kernel starts (papermill or JupyterLab)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from entity_bert.core.project import enter_project, project_root

ROOT = Path(__file__).resolve().parents[1]


def test_the_root_is_found_from_the_notebooks_folder_and_entered(monkeypatch):
    monkeypatch.chdir(ROOT / "notebooks")
    assert project_root() == ROOT
    assert enter_project() == ROOT and Path(os.getcwd()) == ROOT


def test_the_training_pipeline_folder_is_not_mistaken_for_the_root():
    assert (ROOT / "pipelines" / "train" / "dvc.yaml").is_file()
    assert project_root(ROOT / "pipelines" / "train") == ROOT


def test_outside_the_project_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"dvc\.yaml"):
        project_root(tmp_path)
