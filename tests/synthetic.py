"""A synthetic clinical corpus written as processed splits, for training tests.

Sentences come from templates with drug and disease names (some of several
words); dev and test are drawn independently of train. Written in the
layout of ``entity-bert data prepare`` (``<dir>/synth/all/{train,dev,test}.jsonl``
and ``stats.json``) so that runs read it like a real corpus.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from entity_bert.data.corpus import Sentence, write_jsonl
from entity_bert.runs.config import RunConfig, resolve

DRUGS = ["aspirin", "heparin", "metformin", "beta blockers", "insulin glargine", "warfarin"]
DISEASES = ["diabetes", "lung cancer", "sepsis", "heart failure", "asthma", "chronic kidney disease"]
TEMPLATES = [
    "The patient took {Drug} for {Disease} .",
    "{Disease} was treated with {Drug} .",
    "She received {Drug} after {Disease} was diagnosed .",
    "No {Drug} was given because of {Disease} .",
]


def fill_template(template: str, names: dict[str, str]) -> Sentence:
    """A tagged sentence: each ``{Type}`` slot of ``template`` becomes the entity ``names[Type]``."""
    tokens: list[str] = []
    tags: list[str] = []
    for word in template.split():
        kind = word[1:-1] if word.startswith("{") and word.endswith("}") else None
        if kind in names:
            parts = names[kind].split()
            tokens += parts
            tags += [f"B-{kind}"] + [f"I-{kind}"] * (len(parts) - 1)
        else:
            tokens.append(word)
            tags.append("O")
    offsets, position = [], 0
    for token in tokens:
        offsets.append((position, position + len(token)))
        position += len(token) + 1
    return Sentence(tokens, tags, offsets, source="synthetic")


def _sentence(rng: random.Random, drugs: list[str], diseases: list[str]) -> Sentence:
    template = rng.choice(TEMPLATES)
    return fill_template(template, {"Drug": rng.choice(drugs), "Disease": rng.choice(diseases)})


def write_synthetic_corpus(
    processed_dir: Path, train: int = 120, dev: int = 30, test: int = 40, seed: int = 0
):
    """Write the synthetic corpus ``synth`` (label set ``all``) under ``processed_dir``."""
    rng = random.Random(seed)
    folder = processed_dir / "synth" / "all"
    folder.mkdir(parents=True)
    splits = {
        "train": [_sentence(rng, DRUGS, DISEASES) for _ in range(train)],
        "dev": [_sentence(rng, DRUGS, DISEASES) for _ in range(dev)],
        "test": [_sentence(rng, DRUGS, DISEASES) for _ in range(test)],
    }
    for name, sentences in splits.items():
        (folder / f"{name}.jsonl").write_text(write_jsonl(sentences))
    stats = {"default_label_set": "all", "label_sets": {"all": {"types": ["Disease", "Drug"]}}}
    (processed_dir / "synth" / "stats.json").write_text(json.dumps(stats))


def synthetic_run_config(
    root: Path, tmp_path: Path, name: str = "entity-bert", regime: str = "finetune", **settings
) -> RunConfig:
    """A run on the synthetic corpus under ``root`` with the tiny random encoder, outputs in ``tmp_path``.

    In fp32, so that a test's figures do not depend on whether the machine runs bf16 natively
    (``precision: auto``, the default, is tested in ``tests/test_device.py``).
    """
    settings = {"epochs": 4, "lr": 3e-3, "batch_size": 16, "patience": 10, "precision": "fp32", **settings}
    base = {
        "corpus": "synth",
        "model": {"name": name},
        "regime": regime,
        "encoder": {"name": "tiny-random"},
        "processed_dir": str(root / "processed"),
        "features_dir": str(tmp_path / "features"),
        "checkpoints_dir": str(tmp_path / "checkpoints"),
        "runs_dir": str(tmp_path / "runs"),
    }
    return resolve(base, settings, params=None)
