"""What a run is: every setting (:class:`RunConfig`) and the one way to build it (:func:`resolve`).

A run trains one model on one corpus (label set), in one regime, with one
seed. :func:`resolve` builds its configuration, for every command alike: the
defaults (the paper's protocol), ``params/train.yaml``, then the profile's
blocks, then command-line options. The configuration is saved with the run's
checkpoints and in its result JSON, so every number names its corpus, split,
label set, model, regime, seed and full configuration.

Outputs: ``<checkpoints_dir>/<run name>/`` (``config.json``, ``last/``,
``best/``, and ``vocabulary.json`` for models trained from scratch) and
``<runs_dir>/<run name>.json`` (the result).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import yaml

from entity_bert.core.errors import InputError
from entity_bert.models.config import EncoderSpec, ModelConfig
from entity_bert.models.registry import default_head, regimes, system

DEFAULT_PARAMS = "params/train.yaml"


@dataclass
class RunConfig:
    """Every setting of a run."""

    corpus: str
    model: ModelConfig = field(default_factory=ModelConfig)
    regime: str = "finetune"  # finetune | frozen (encoder models); scratch (the others)
    label_set: str | None = None  # a label set of the corpus (default: its default one)
    seed: int = 13  # seed of the initial weights and the batch order
    encoder: EncoderSpec = field(default_factory=EncoderSpec)
    epochs: int = 30  # most epochs (the paper: 30)
    patience: int = 3  # epochs without a better dev F1 before stopping
    lr: float = 1e-4  # Adam's learning rate (the paper: 1e-4)
    lr_schedule: str = "constant"  # constant (the paper), or linear: to 0 over `epochs`, no warm-up (HF's)
    head_lr: float | None = None  # learning rate of the layers above the encoder (default: lr)
    batch_size: int = 32  # training sentences a batch
    eval_batch_size: int = 64  # sentences a batch when predicting
    max_grad_norm: float = 1.0  # gradient clipping by global norm
    max_train_sentences: int | None = None  # a seeded subset, for quick runs
    max_eval_sentences: int | None = None  # a seeded subset of dev and test
    max_dev_sentences: int | None = None  # at most this many dev sentences score early stopping (seeded)
    subset_rule: str = "sample"  # sample: random.sample; nested: a seeded permutation's prefix
    efficiency_sentences: int = 200  # test sentences timed for latency and throughput
    processed_dir: str = "data/processed"  # prepared corpora
    features_dir: str = "data/features"  # cached encoder features (frozen regime)
    checkpoints_dir: str = "checkpoints"  # where <run name>/ with its checkpoints goes
    runs_dir: str = "results/runs"  # where <run name>.json, the result, goes
    device: str = "auto"  # auto: CUDA when present, else CPU
    precision: str = "auto"  # auto (bf16 where the hardware runs it natively, else fp32), fp32, or bf16

    def __post_init__(self) -> None:
        if isinstance(self.model, dict):
            self.model = ModelConfig(**self.model)
        if isinstance(self.encoder, dict):
            self.encoder = EncoderSpec(**self.encoder)
        if self.label_set is None:
            raise ValueError("label_set is not set: build a run's configuration with resolve()")
        if self.subset_rule not in ("sample", "nested"):
            raise ValueError(f"subset_rule must be sample or nested, not {self.subset_rule!r}")
        if self.lr_schedule not in ("constant", "linear"):
            raise ValueError(f"lr_schedule must be constant or linear, not {self.lr_schedule!r}")
        if self.precision not in ("auto", "fp32", "bf16"):
            raise ValueError(f"precision must be auto, fp32 or bf16, not {self.precision!r}")
        if self.regime not in regimes(self.model.name):
            raise ValueError(
                f"model {self.model.name!r} trains in {regimes(self.model.name)}, not {self.regime!r}"
            )

    @property
    def name(self) -> str:
        return f"{self.corpus}__{self.label_set}__{self.variant}__{self.regime}__seed{self.seed}"

    @property
    def variant(self) -> str:
        """The model's name, with its recurrent cell and head when not its own (``entity-bert-gru+crf``)."""
        variant = self.model.name
        if self.model.cell != "lstm" and system(self.model.name).named_cell:
            variant += f"-{self.model.cell}"
        if self.model.head is not None and self.model.head != default_head(self.model.name):
            variant += f"+{self.model.head}"
        return variant

    @property
    def checkpoint_dir(self) -> Path:
        return Path(self.checkpoints_dir) / self.name

    @property
    def result_path(self) -> Path:
        return Path(self.runs_dir) / f"{self.name}.json"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, content: dict) -> RunConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(content) - known)
        if unknown:
            raise ValueError(f"unknown run settings {unknown}")
        return cls(**content)

    @classmethod
    def saved(cls, folder: str | Path) -> RunConfig:
        """The configuration a trained run saved beside its checkpoint (``<folder>/config.json``)."""
        path = Path(folder) / "config.json"
        if not path.exists():
            raise InputError(path, None, "no run configuration here (is this a run's checkpoint folder?)")
        return cls.from_dict(json.loads(path.read_text("utf-8")))


def load_defaults(path: str | Path) -> dict:
    """The ``train`` block of a parameters file (``params/train.yaml``)."""
    return yaml.safe_load(Path(path).read_text("utf-8"))["train"]


def merge(base: dict, layer: dict) -> dict:
    """``base`` with ``layer`` on top; nested blocks (``model``, ``encoder``) merge key by key."""
    merged = dict(base)
    for key, value in layer.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def default_label_set(processed_dir: str | Path, corpus: str) -> str:
    """The corpus's default label set, from its processed ``stats.json`` (``all`` before it is prepared)."""
    stats = Path(processed_dir) / corpus / "stats.json"
    return json.loads(stats.read_text("utf-8"))["default_label_set"] if stats.exists() else "all"


def resolve(*layers: dict, params: str | Path | None = DEFAULT_PARAMS) -> RunConfig:
    """The one path to a run's configuration, used by every command.

    In order, each over the last: :class:`RunConfig`'s defaults (the paper's
    protocol), the ``train`` block of ``params`` (``params/train.yaml``; None:
    skip it), then ``layers`` (a profile's run block, a system's overrides,
    command-line options...). ``model`` and ``encoder`` merge key by key. An
    unset label set becomes the corpus's default.
    """
    content: dict = load_defaults(params) if params is not None else {}
    for layer in layers:
        content = merge(content, layer)
    if content.get("label_set") is None:
        processed = content.get("processed_dir", RunConfig.processed_dir)
        content["label_set"] = default_label_set(processed, content["corpus"])
    return RunConfig.from_dict(content)
