"""``entity-bert bench --cells``: what each training cell of a profile will cost, measured before a campaign.

For every (system, corpus) of a profile, a short slice of the cell is timed on
this machine with the cell's own settings: one training pass over
``sentences`` training sentences (after a warm-up pass over the same ones) and
one prediction pass over as many dev sentences. Per sentence, these give

    epoch    = t_train * n_train + t_predict * n_dev        (train, then score dev)
    cell     = epochs * epoch + t_predict * n_test           (then score test once)
               + t_cache * (n_train + n_dev)                 (regimes that cache the fixed encoder's output)

with n the sizes of the cell's splits (dev: at most ``max_dev_sentences``, the
subset early stopping scores) and ``epochs`` the number of epochs a
cell is expected to run (early stopping: a stated guess, default 8 for the
paper's patience of 3; the recipe's own count for the reference). Systems that
cost more on some corpora (MRC reads a sentence once per entity type) are
timed on each corpus, so the projection carries that. Written to
``results/bench/cells.{json,md}`` with the machine it ran on; a projection,
labelled as one, never a result.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd

from entity_bert.core.fileio import atomic_write_text
from entity_bert.report.markdown import markdown_table


def _split_size(config, split: str) -> int:
    from entity_bert.runs.data import split_file

    with split_file(config, split).open(encoding="utf-8") as handle:
        return sum(1 for line in handle if line.strip())


def _time_engine(config, sentences: int) -> tuple[float, float, float]:
    """Seconds per training sentence, per predicted sentence and per cached sentence, for our engine.

    Regimes that cache what the fixed part of the encoder computes (``frozen``,
    ``top``) pay that once per training and dev sentence; its time is the third figure.
    """
    from entity_bert.models.registry import caches_features
    from entity_bert.training.engine import Run, make_optimizer, predict_indexes

    run = Run(config)
    cached = config.regime in ("frozen", "top") and caches_features(config.model.name)
    started = time.perf_counter()
    train = run.examples("train", cached=cached)[:sentences]
    cache_s = (time.perf_counter() - started) / len(train) if cached else 0.0
    dev = run.examples("dev", cached=cached)[:sentences]
    optimizer = make_optimizer(run.model, config)
    run.model.fit_support(train, config.eval_batch_size, run.device)
    run.train_epoch(train, optimizer, 1)  # warm-up
    started = time.perf_counter()
    run.train_epoch(train, optimizer, 2)
    train_s = (time.perf_counter() - started) / len(train)
    run.model.fit_support(train, config.eval_batch_size, run.device)
    predict_indexes(run.model, dev[:8], config.eval_batch_size, run.device, run.precision)  # warm-up
    started = time.perf_counter()
    predict_indexes(run.model, dev, config.eval_batch_size, run.device, run.precision)
    return train_s, (time.perf_counter() - started) / len(dev), cache_s


def _time_reference(config, sentences: int) -> tuple[float, float, float]:
    """The same for the Hugging Face Trainer reference (its first epoch includes its warm-up)."""
    from dataclasses import replace

    from entity_bert.runs.data import load_split
    from entity_bert.training.reference import train_reference

    short = replace(config, epochs=2, max_train_sentences=sentences, max_eval_sentences=sentences)
    reference, state = train_reference(short)
    train_s = state["training_s"] / (2 * sentences)
    dev = load_split(short, "dev")
    reference(dev[:8])
    started = time.perf_counter()
    reference(dev)
    return train_s, (time.perf_counter() - started) / len(dev), 0.0


def time_cells(
    profile: dict, systems: list[str], corpora: list[str], sentences: int, epochs: float, scratch: Path
) -> pd.DataFrame:
    """One row per (system, corpus): measured seconds per sentence and the projected cell time."""
    from dataclasses import replace

    from entity_bert.models.registry import input_kind
    from entity_bert.study.stages import run_config

    rows = []
    for system in systems:
        for corpus in corpora:
            config = run_config(profile, corpus, system, profile["study"]["seeds"][0])
            sizes = {split: _split_size(config, split) for split in ("train", "dev", "test")}
            if config.max_dev_sentences is not None:  # early stopping scores a seeded subset of dev
                sizes["dev"] = min(sizes["dev"], config.max_dev_sentences)
            folder = scratch / f"{corpus}__{system}"
            config = replace(
                config,
                max_train_sentences=sentences,
                max_eval_sentences=sentences,
                checkpoints_dir=str(folder / "checkpoints"),
                runs_dir=str(folder / "runs"),
            )
            reference = input_kind(system) == "trainer"
            train_s, predict_s, cache_s = (_time_reference if reference else _time_engine)(config, sentences)
            cell_epochs = config.epochs if reference else epochs
            epoch_s = train_s * sizes["train"] + (0 if reference else predict_s * sizes["dev"])
            once = predict_s * (sizes["test"] + (sizes["dev"] if reference else 0))
            cell_s = cell_epochs * epoch_s + once + cache_s * (sizes["train"] + sizes["dev"])
            rows.append(
                {
                    "system": system,
                    "corpus": corpus,
                    "train_ms_per_sentence": 1000 * train_s,
                    "predict_ms_per_sentence": 1000 * predict_s,
                    "cache_ms_per_sentence": 1000 * cache_s,
                    "train_sentences": sizes["train"],
                    "dev_sentences": sizes["dev"],
                    "test_sentences": sizes["test"],
                    "epoch_min": epoch_s / 60,
                    "epochs_assumed": cell_epochs,
                    "cell_h": cell_s / 3600,
                }
            )
    return pd.DataFrame(rows)


def write_projection(
    frame: pd.DataFrame, profile: dict, seeds: int, out_dir: str | Path, machine: dict
) -> str:
    """``cells.json`` and ``cells.md`` under ``out_dir``; the Markdown page."""
    per_seed = frame.groupby("system", sort=False).cell_h.sum()
    total = float(per_seed.sum() * seeds)
    page = [
        f"# Projected cost of the `{profile['profile']}` profile's training cells (projected, not measured)",
        "",
        f"Measured on {machine['cpu']} ({machine['threads']} threads, {machine['matmul_gflops_fp32']} "
        "GFLOP/s fp32 matmul), with each cell's own settings, on a slice of its sentences; projected to the "
        "full splits with the epochs assumed (early stopping makes the real count vary).",
        "",
        markdown_table(frame, digits=2),
        "",
        "Per seed, hours per system: "
        + ", ".join(f"{system} {hours:.1f}" for system, hours in per_seed.items())
        + f". **All {seeds} seed(s): {total:.1f} hours** of training cells (without Table 6 and the grid).",
        "",
    ]
    text = "\n".join(page)
    out = Path(out_dir)
    record = {"machine": machine, "seeds": seeds, "total_h": total, "cells": frame.to_dict(orient="records")}
    atomic_write_text(out / "cells.json", json.dumps(record, indent=1) + "\n")
    atomic_write_text(out / "cells.md", text)
    return text
