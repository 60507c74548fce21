"""``entity-bert ablation``: the paper's Table 6, Entity-BERT with each recurrent layer.

The paper replaces Entity-BERT's LSTM by a GRU, an SRU, an IndRNN and a gated
feedback RNN (Table 6). We train Entity-BERT with each of the five layers
(:mod:`entity_bert.models.recurrent`) through the one training engine, on the
corpora and seeds of ``params/study.yaml``, in the ``frozen`` regime by
default (cached encoder features: a run costs seconds to minutes on a CPU).
Runs whose result already exists with the same configuration are not run
again, so an interrupted ablation resumes. Table 6 is then built from the
result JSONs (:func:`entity_bert.report.tables.write_table6`).

Table 6's LSTM row is Entity-BERT as proposed. Where the profile's study
trains Entity-BERT on the same corpus and seed with every setting the same
but its folders (the ``full`` profile does), that study run *is* the
ablation's LSTM run: the same seed on the same machine trains the same model.
Its result is then taken over (:func:`adopt`, the record naming its source in
``same_run_as``) instead of spending its hours a second time.

Each run (corpus x cell x seed) has its own result and checkpoint folders
(:func:`ablation_slot`), so that DVC can run and record it as a stage of its
own (``ablation_run@<profile>-<corpus>-<cell>-<seed>`` in
``pipelines/train/dvc.yaml``) and a long campaign commits each as it finishes;
the ``ablation`` stage then only draws Table 6 from them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from entity_bert.core.fileio import atomic_write_text
from entity_bert.runs.config import RunConfig, resolve
from entity_bert.runs.record import done_result
from entity_bert.study.layout import Layout
from entity_bert.study.stages import run_config

FOLDER_SETTINGS = ("runs_dir", "checkpoints_dir", "features_dir")  # where a run writes, not what it is


@dataclass
class AblationSettings:
    corpora: list[str] = field(default_factory=lambda: ["maccrobat2020", "ncbi-disease"])
    cells: list[str] = field(default_factory=lambda: ["lstm", "gru", "sru", "indrnn", "gfrnn"])
    seeds: list[int] = field(default_factory=lambda: [13, 14, 15])
    regime: str = "frozen"
    overrides: dict = field(default_factory=dict)  # any RunConfig setting, e.g. lr, max_train_sentences
    train_params: str = "params/train.yaml"
    profile: dict | None = None  # the whole profile: its study runs may be ablation runs (study_twin)

    @classmethod
    def load(cls, path: str | Path) -> AblationSettings:
        """The profile's ``ablation`` block, its runs in the profile's folders (:class:`Layout`)."""
        profile = yaml.safe_load(Path(path).read_text("utf-8"))
        settings = dict(profile["ablation"])
        settings["overrides"] = {**Layout.of(profile).ablation_paths, **(settings.get("overrides") or {})}
        return cls(**settings, profile=profile)


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


def _what_it_is(config: RunConfig) -> dict:
    return {key: value for key, value in config.to_dict().items() if key not in FOLDER_SETTINGS}


def study_twin(settings: AblationSettings, config: RunConfig) -> RunConfig | None:
    """The profile's study run of Entity-BERT that is this very ablation run under other folders, if any."""
    if settings.profile is None:
        return None
    twin = run_config(settings.profile, config.corpus, "entity-bert", config.seed)
    return twin if _what_it_is(twin) == _what_it_is(config) else None


def adopt(config: RunConfig, twin: RunConfig, twin_result: dict) -> dict:
    """The twin's result as this run's: its record under this run's configuration, naming its source.

    The checkpoint folder gets ``same_run.json`` pointing at the twin's checkpoint (a DVC output of
    the ablation's stage; nothing loads ablation checkpoints).
    """
    from entity_bert.training.evaluation import write_result

    record = {key: value for key, value in twin_result.items() if key != "study"}
    record.update(config=config.to_dict(), same_run_as=str(twin.result_path))
    pointer = {"same_run_as": str(twin.checkpoint_dir)}
    atomic_write_text(config.checkpoint_dir / "same_run.json", json.dumps(pointer, indent=1) + "\n")
    write_result(config, record)
    return record


def ablation_result(settings: AblationSettings, config: RunConfig) -> dict:
    """One ablation run's result: done already, taken over from its study twin, or trained now."""
    from entity_bert.training.evaluation import train_and_evaluate

    done = done_result(config)
    if done is not None:
        return done
    twin = study_twin(settings, config)
    twin_result = done_result(twin) if twin is not None else None
    if twin_result is not None:
        return adopt(config, twin, twin_result)
    return train_and_evaluate(config)


def run_ablation(settings: AblationSettings) -> list[dict]:
    """Every ablation run's result, training only those done neither here nor by the study."""
    return [ablation_result(settings, config) for config in ablation_configs(settings)]


def finished(settings: AblationSettings) -> list[dict]:
    """The results of the ablation runs done so far (with their current configuration); none is trained."""
    results = (done_result(config) for config in ablation_configs(settings))
    return [result for result in results if result is not None]
