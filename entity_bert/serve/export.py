"""The portable model directory: a trained run, written so that it loads anywhere, offline.

``entity-bert export --run CHECKPOINT --out DIR`` writes::

    DIR/manifest.json        format, provenance, and the sha256 of every file below
    DIR/config.json          the run's full configuration (what it was trained with)
    DIR/labels.json          the IOB2 tag vocabulary, in the classifier's order
    DIR/model.safetensors    every weight except the encoder's
    DIR/encoder/             the encoder as a Hugging Face folder: config.json,
                             model.safetensors (the pretrained weights, or the
                             fine-tuned ones) and the tokenizer's files
    DIR/vocabulary.json      models trained from scratch: their words and characters
    DIR/mrc_queries.yaml     MRC: its queries

Nothing is pickled, nothing is downloaded, and no corpus is needed to load it.
:func:`read` checks the manifest first: a missing file (an incomplete copy)
or a file whose sha256 differs (a modified or corrupted one) is refused with
a one-line :class:`~entity_bert.core.errors.InputError` naming the file.
"""

from __future__ import annotations

import json
import platform
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import torch
import transformers
from safetensors.torch import save_file
from torch import nn
from transformers import PreTrainedModel

from entity_bert import __version__
from entity_bert.core.errors import InputError
from entity_bert.core.fileio import atomic_directory, sha256_file
from entity_bert.models.batching import Vocabulary
from entity_bert.models.encoder import fingerprint
from entity_bert.models.registry import build_tagger, input_kind, system
from entity_bert.models.tagger import ENCODER_PREFIX
from entity_bert.runs import checkpoint
from entity_bert.runs.config import RunConfig

FORMAT = "entity-bert-model/1"
MANIFEST = "manifest.json"
REQUIRED = ("config.json", "labels.json", "model.safetensors")


@dataclass
class ExportedModel:
    """A model read back from its directory, ready to predict."""

    folder: Path
    config: RunConfig  # as trained, with the encoder and queries pointing into ``folder``
    tags: list[str]
    model: nn.Module
    vocabulary: Vocabulary | None
    manifest: dict


def export_run(run_folder: str | Path, out: str | Path) -> Path:
    """Write the trained run of ``run_folder`` (its ``config.json`` and ``best/``) as a model directory."""
    from entity_bert.runs.model import load_trained

    config = RunConfig.saved(run_folder)
    if input_kind(config.model.name) in ("features", "trainer"):
        raise InputError(
            Path(run_folder) / "config.json",
            None,
            f"{config.model.name} has no portable export (the feature CRF, the HF reference): export another",
        )
    run = load_trained(config)
    out = Path(out)
    with atomic_directory(out) as tmp:
        head = {
            k: v for k, v in checkpoint.model_tensors(run.model).items() if not k.startswith(ENCODER_PREFIX)
        }
        save_file(head, tmp / "model.safetensors")
        if run.kind == "encoder":
            _write_encoder(run.model.source.word_encoder.encoder, run.tokenizer, tmp / "encoder")
        if run.vocabulary is not None:
            run.vocabulary.save(tmp / "vocabulary.json")
        for setting, name in system(config.model.name).exports:  # files the model reads (MRC: its queries)
            shutil.copyfile(getattr(config.model, setting), tmp / name)
        _write_json(tmp / "config.json", config.to_dict())
        _write_json(tmp / "labels.json", run.tags)
        _write_json(tmp / MANIFEST, _manifest(tmp, config, Path(run_folder)))
    return out


def _write_encoder(encoder: nn.Module, tokenizer, folder: Path) -> None:
    if not isinstance(encoder, PreTrainedModel):
        raise ValueError(
            f"cannot export an encoder of type {type(encoder).__name__} (a BERT-style encoder exports)"
        )
    encoder.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)


def _write_json(path: Path, content) -> None:
    path.write_text(json.dumps(content, indent=1, ensure_ascii=False, sort_keys=True) + "\n", "utf-8")


def _manifest(folder: Path, config: RunConfig, run_folder: Path) -> dict:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return {
        "format": FORMAT,
        "files": {p.relative_to(folder).as_posix(): sha256_file(p) for p in files},
        "trained": {
            "run": config.name,
            "corpus": config.corpus,
            "label_set": config.label_set,
            "model": config.variant,
            "regime": config.regime,
            "seed": config.seed,
            "from": run_folder.as_posix(),
        },
        "encoder": {"name": config.encoder.name, "sha256": fingerprint(config.encoder)}
        if input_kind(config.model.name) == "encoder"
        else None,
        "written_by": {
            "entity_bert": __version__,
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "python": platform.python_version(),
        },
    }


def verify(folder: str | Path) -> dict:
    """The manifest of ``folder``, after checking that every file it lists is there and unchanged."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not folder.is_dir():
        raise InputError(folder, None, "no such model directory")
    if not path.is_file():
        raise InputError(path, None, "missing: not a model directory (entity-bert export writes them)")
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(path, getattr(error, "lineno", None), f"unreadable manifest ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputError(path, None, f"not a {FORMAT} manifest")
    files = manifest.get("files") or {}
    for name in REQUIRED:
        if name not in files:
            raise InputError(path, None, f"the manifest does not list {name}")
    for name, digest in sorted(files.items()):
        target = folder / name
        if ".." in Path(name).parts or Path(name).is_absolute():
            raise InputError(path, None, f"the manifest names a file outside the directory: {name}")
        if not target.is_file():
            raise InputError(target, None, "missing: the model directory is incomplete")
        if sha256_file(target) != digest:
            raise InputError(
                target, None, "sha256 differs from the manifest: the file was modified or corrupted"
            )
    return manifest


def read(folder: str | Path) -> ExportedModel:
    """Verify and load a model directory on the CPU (offline: every file comes from ``folder``)."""
    folder = Path(folder)
    manifest = verify(folder)
    config = RunConfig.from_dict(json.loads((folder / "config.json").read_text("utf-8")))
    tags = json.loads((folder / "labels.json").read_text("utf-8"))
    kind = input_kind(config.model.name)
    if kind == "encoder":
        weights = "encoder/model.safetensors"
        config.encoder = replace(
            config.encoder, name=str(folder / "encoder"), sha256=manifest["files"].get(weights)
        )
    for setting, name in system(config.model.name).exports:
        config.model = replace(config.model, **{setting: str(folder / name)})
    vocabulary = Vocabulary.load(folder / "vocabulary.json") if kind == "words" else None
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)  # layers the checkpoint overwrites anyway; keeps loading deterministic
        model = build_tagger(config.model, tags, config.regime, config.encoder, vocabulary)
    checkpoint.load_model(model, folder)
    model.eval()
    return ExportedModel(folder, config, tags, model, vocabulary, manifest)
