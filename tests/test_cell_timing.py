"""``entity-bert bench --cells``: a profile's training cells timed on slices and projected to full splits."""

from __future__ import annotations

import json

import pytest
import torch

from entity_bert.core.device import machine
from entity_bert.study import stages
from entity_bert.study.cell_timing import time_cells, write_projection

from .synthetic import write_synthetic_corpus


def test_cells_are_timed_on_slices_and_projected_to_the_full_splits(tmp_path, monkeypatch):
    write_synthetic_corpus(tmp_path / "processed", train=120, dev=30, test=40)
    monkeypatch.setattr(stages, "encoder_name", lambda profile: "tiny-random")
    run = {
        "regime": "finetune",
        "epochs": 3,
        "lr": 1e-3,
        "batch_size": 8,
        "processed_dir": str(tmp_path / "processed"),
        "max_dev_sentences": 20,  # early stopping scores 20 of the 30 dev sentences
    }
    profile = {
        "profile": "timing",
        "study": {
            "seeds": [13, 14],
            "run": run,
            "system_overrides": {"hf-trainer": {"epochs": 3, "batch_size": 8}},
        },
    }
    frame = time_cells(profile, ["bert", "hf-trainer"], ["synth"], 16, 5.0, tmp_path / "scratch")
    assert list(frame.system) == ["bert", "hf-trainer"]
    assert (frame.train_ms_per_sentence > 0).all() and (frame.predict_ms_per_sentence > 0).all()
    assert list(frame.train_sentences) == [120, 120] and list(frame.test_sentences) == [40, 40]
    assert list(frame.dev_sentences) == [20, 20]
    assert list(frame.epochs_assumed) == [5.0, 3]  # the reference runs its recipe's epochs
    bert = frame.iloc[0]
    expected = (
        5 * (bert.train_ms_per_sentence * 120 + bert.predict_ms_per_sentence * 20)
        + bert.predict_ms_per_sentence * 40
    )
    assert bert.cell_h * 3600 * 1000 == pytest.approx(expected)
    page = write_projection(frame, profile, 2, tmp_path / "bench", machine(torch.device("cpu")))
    assert "projected, not measured" in page and "All 2 seed(s)" in page
    saved = json.loads((tmp_path / "bench" / "cells.json").read_text())
    assert saved["total_h"] == pytest.approx(2 * frame.cell_h.sum())
