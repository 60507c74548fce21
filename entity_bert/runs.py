"""What a run is: its configuration, its data, and where its outputs go.

A run trains one model on one corpus (label set), in one regime, with one
seed. :class:`RunConfig` holds every setting (defaults: the paper's protocol,
``params/train.yaml``); it is saved with the run's checkpoints and in its
result JSON, so every number names its corpus, split, label set, model,
regime, seed and full configuration.

Outputs: ``<checkpoints_dir>/<run name>/`` (``config.json``, ``last/``,
``best/``, and ``vocabulary.json`` for models trained from scratch) and
``<runs_dir>/<run name>.json`` (the result).
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import yaml

from . import iob2
from .batching import Example, Vocabulary
from .corpus import Sentence, read_jsonl
from .encoder import EncoderSpec, encode_sentence, load_tokenizer
from .errors import InputError
from .models.registry import ModelConfig, default_head, regimes

SUBSET_SEED = 0  # the same subset for every run seed, so that seeds compare like with like


@dataclass
class RunConfig:
    """Every setting of a run."""

    corpus: str
    model: ModelConfig = field(default_factory=ModelConfig)
    regime: str = "finetune"  # finetune | frozen (encoder models); scratch (the others)
    label_set: str | None = None  # default: the corpus's default label set
    seed: int = 13
    encoder: EncoderSpec = field(default_factory=EncoderSpec)
    epochs: int = 30
    patience: int = 3  # epochs without a better dev F1 before stopping
    lr: float = 1e-4
    head_lr: float | None = None  # learning rate of the layers above the encoder (default: lr)
    batch_size: int = 32
    eval_batch_size: int = 64
    max_grad_norm: float = 1.0
    max_train_sentences: int | None = None  # a seeded subset, for quick runs
    max_eval_sentences: int | None = None
    subset_rule: str = "sample"  # sample: random.sample; nested: a seeded permutation's prefix
    efficiency_sentences: int = 200  # test sentences timed for latency and throughput
    processed_dir: str = "data/processed"
    features_dir: str = "data/features"
    checkpoints_dir: str = "checkpoints"
    runs_dir: str = "results/runs"
    device: str = "auto"  # auto: CUDA when present, else CPU
    precision: str = "fp32"  # fp32, or bf16 (autocast mixed precision, for CPUs/GPUs with bf16 units)

    def __post_init__(self) -> None:
        if isinstance(self.model, dict):
            self.model = ModelConfig(**self.model)
        if isinstance(self.encoder, dict):
            self.encoder = EncoderSpec(**self.encoder)
        if self.label_set is None:
            stats = Path(self.processed_dir) / self.corpus / "stats.json"
            self.label_set = (
                json.loads(stats.read_text("utf-8"))["default_label_set"] if stats.exists() else "all"
            )
        if self.subset_rule not in ("sample", "nested"):
            raise ValueError(f"subset_rule must be sample or nested, not {self.subset_rule!r}")
        if self.precision not in ("fp32", "bf16"):
            raise ValueError(f"precision must be fp32 or bf16, not {self.precision!r}")
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
        if self.model.cell != "lstm" and self.model.name in ("entity-bert", "bilstm-crf"):
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


def split_file(config: RunConfig, split: str) -> Path:
    return Path(config.processed_dir) / config.corpus / config.label_set / f"{split}.jsonl"


def subset_indexes(config: RunConfig, split: str, total: int) -> list[int]:
    """Indexes of the sentences a run uses: all, or a seeded subset in corpus order.

    With ``subset_rule: nested`` a subset is a prefix of one seeded permutation,
    so a smaller subset lies inside a larger one: runs scored on different
    numbers of test sentences can still be compared on the sentences they share.
    """
    limit = config.max_train_sentences if split == "train" else config.max_eval_sentences
    if limit is None or limit >= total:
        return list(range(total))
    if config.subset_rule == "nested":
        order = list(range(total))
        random.Random(SUBSET_SEED).shuffle(order)
        return sorted(order[:limit])
    return sorted(random.Random(SUBSET_SEED).sample(range(total), limit))


def load_split(config: RunConfig, split: str) -> list[Sentence]:
    """The sentences of a processed split that the run uses."""
    sentences = read_jsonl(split_file(config, split))
    return [sentences[i] for i in subset_indexes(config, split, len(sentences))]


def label_tags(config: RunConfig) -> list[str]:
    """The tag vocabulary of the run's label set."""
    stats = json.loads((Path(config.processed_dir) / config.corpus / "stats.json").read_text("utf-8"))
    return iob2.tag_vocabulary(stats["label_sets"][config.label_set]["types"])


def build_examples(
    sentences: list[Sentence],
    tags: list[str],
    kind: str,
    encoder: EncoderSpec | None = None,
    vocabulary: Vocabulary | None = None,
    tokenizer=None,
) -> list[Example]:
    """Examples of one input kind: ``windows`` (encoder), ``words`` (scratch)."""
    index = {tag: i for i, tag in enumerate(tags)}
    unknown = sorted({t for s in sentences for t in s.tags} - set(index))
    if unknown:
        raise ValueError(f"tags {unknown} are not in the label set {tags}")
    examples = []
    if kind == "encoder":
        tokenizer = tokenizer or load_tokenizer(encoder)
    for s in sentences:
        labels = [index[t] for t in s.tags]
        if kind == "encoder":
            examples.append(Example(labels, encoded=encode_sentence(tokenizer, s.tokens, encoder)))
        else:
            examples.append(
                Example(
                    labels, word_ids=vocabulary.word_ids(s.tokens), char_ids=vocabulary.char_ids(s.tokens)
                )
            )
    return examples
