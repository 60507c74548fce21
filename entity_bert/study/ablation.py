"""``entity-bert ablation``: the paper's Table 6, Entity-BERT with each recurrent layer.

The paper replaces Entity-BERT's LSTM by a GRU, an SRU, an IndRNN and a gated
feedback RNN (Table 6). We train Entity-BERT with each of the five layers
(:mod:`entity_bert.models.recurrent`) through the one training engine, on the
corpora and seeds of ``params/study.yaml``, in the ``frozen`` regime by
default (cached encoder features: a run costs seconds to minutes on a CPU).
Runs whose result already exists with the same configuration are not run
again, so an interrupted ablation resumes. Table 6 is then built from the
result JSONs (:func:`entity_bert.report.tables.write_table6`).

Each run (corpus x cell x seed) has its own result and checkpoint folders
(:func:`ablation_slot`), so that DVC can run and record it as a stage of its
own (``ablation_run@<profile>-<corpus>-<cell>-<seed>`` in
``pipelines/train/dvc.yaml``) and a long campaign commits each as it finishes;
the ``ablation`` stage then only draws Table 6 from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from entity_bert.runs.config import RunConfig, resolve
from entity_bert.runs.record import done_result
from entity_bert.study.layout import Layout


@dataclass
class AblationSettings:
    corpora: list[str] = field(default_factory=lambda: ["maccrobat2020", "ncbi-disease"])
    cells: list[str] = field(default_factory=lambda: ["lstm", "gru", "sru", "indrnn", "gfrnn"])
    seeds: list[int] = field(default_factory=lambda: [13, 14, 15])
    regime: str = "frozen"
    overrides: dict = field(default_factory=dict)  # any RunConfig setting, e.g. lr, max_train_sentences
    train_params: str = "params/train.yaml"

    @classmethod
    def load(cls, path: str | Path) -> AblationSettings:
        """The profile's ``ablation`` block, its runs in the profile's folders (:class:`Layout`)."""
        profile = yaml.safe_load(Path(path).read_text("utf-8"))
        settings = dict(profile["ablation"])
        settings["overrides"] = {**Layout.of(profile).ablation_paths, **(settings.get("overrides") or {})}
        return cls(**settings)


def ablation_slot(corpus: str, cell: str, seed: int) -> str:
    """The folder name of one ablation run; ``pipelines/train/dvc.yaml`` spells the same pattern."""
    return f"{corpus}__{cell}__seed{seed}"


def ablation_config(settings: AblationSettings, corpus: str, cell: str, seed: int) -> RunConfig:
    """One run of the ablation, its result and checkpoint each in a folder of its own (its slot)."""
    model = {"name": "entity-bert", "cell": cell}
    run = {"corpus": corpus, "regime": settings.regime, "seed": seed, "model": model}
    overrides = dict(settings.overrides)
    name = ablation_slot(corpus, cell, seed)
    for key in ("runs_dir", "checkpoints_dir"):
        if key in overrides:
            overrides[key] = f"{overrides[key]}/{name}"
    return resolve(overrides, run, params=settings.train_params)


def ablation_configs(settings: AblationSettings) -> list[RunConfig]:
    """Every run of the ablation: corpus x cell x seed."""
    return [
        ablation_config(settings, corpus, cell, seed)
        for corpus in settings.corpora
        for cell in settings.cells
        for seed in settings.seeds
    ]


def run_ablation(settings: AblationSettings) -> list[dict]:
    """Train and evaluate every ablation run not done yet; return all their results."""
    from entity_bert.training.evaluation import train_unless_done

    return [train_unless_done(config) for config in ablation_configs(settings)]


def finished(settings: AblationSettings) -> list[dict]:
    """The results of the ablation runs done so far (with their current configuration); none is trained."""
    results = (done_result(config) for config in ablation_configs(settings))
    return [result for result in results if result is not None]
