"""The training engine, one for every neural model of the study.

The paper's protocol (section 4.2) is the default: Adam, learning rate 1e-4
(the layers above the encoder may have their own), cross-entropy or CRF
negative log-likelihood, validation on dev after every epoch, the best
checkpoint kept by dev entity F1, at most 30 epochs, early stopping after 3
epochs without improvement.

Reproducible: one seed sets the initial weights (``torch.manual_seed``) and
each epoch's batch order (a ``torch.Generator`` seeded by seed and epoch).
After every epoch the run writes ``last/`` (weights, optimizer, torch's random
state, progress); a run that is stopped at any point and started again with
the same configuration resumes from there and ends exactly as an
uninterrupted run would.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path

import torch

from entity_bert.core.device import autocast, to_device
from entity_bert.core.errors import InputError
from entity_bert.core.progress import progress
from entity_bert.data.corpus import read_jsonl
from entity_bert.data.iob2 import DECODINGS
from entity_bert.models.batching import Example, collate, length_batches
from entity_bert.models.registry import caches_features
from entity_bert.models.tagger import ENCODER_PREFIX, Tagger
from entity_bert.runs import checkpoint
from entity_bert.runs.config import RunConfig
from entity_bert.runs.data import split_file, subset_indexes
from entity_bert.runs.model import RunModel
from entity_bert.scoring.metrics import entity_scores
from entity_bert.training.features import cached_features, cached_lower_states


class Interrupted(Exception):
    """Raised by ``stop_after_steps`` to simulate a run killed mid-epoch (tests)."""


@torch.no_grad()
def _predict(
    model: Tagger, examples: list[Example], batch_size: int, device, precision: str, decode: Callable
) -> dict[str, list[list[int]]]:
    """Tag indexes of each example, in order, for each name that ``decode(batch)`` returns."""
    model.eval()
    predictions: dict[str, list] = {}
    for indexes in length_batches(examples, batch_size, None):
        batch = to_device(collate([examples[i] for i in indexes]), device)
        with autocast(device, precision):
            decoded = decode(batch)
        for name, rows in decoded.items():
            slots = predictions.setdefault(name, [None] * len(examples))
            for i, row in zip(indexes, rows, strict=True):
                slots[i] = row
    return predictions


def predict_indexes(
    model: Tagger, examples: list[Example], batch_size: int, device: torch.device, precision: str = "fp32"
) -> list[list[int]]:
    """Predicted tag indexes of each example, as training validates them (``model.decode``)."""
    decoded = _predict(model, examples, batch_size, device, precision, lambda b: {"decode": model.decode(b)})
    return decoded.get("decode", [])


def predict_decodings(
    model: Tagger, examples: list[Example], batch_size: int, device: torch.device, precision: str = "fp32"
) -> dict[str, list[list[int]]]:
    """Predicted tag indexes of each example under each decoding (``model.decodings``)."""
    decoded = _predict(model, examples, batch_size, device, precision, model.decodings)
    return {name: decoded.get(name, []) for name in DECODINGS}


def dev_scores(
    model: Tagger, examples: list[Example], tags: list[str], batch_size: int, device, precision: str
) -> dict:
    """Strict seqeval scores of the model's decoded tags on dev (what picks the best epoch)."""
    predicted = predict_indexes(model, examples, batch_size, device, precision)
    gold = [[tags[i] for i in e.labels] for e in examples]
    return entity_scores(gold, [[tags[i] for i in row] for row in predicted])


def make_optimizer(model: Tagger, config: RunConfig) -> torch.optim.Adam:
    """Adam over the trainable parameters; the encoder at ``lr``, the rest at ``head_lr``."""
    trainable = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    encoder = [p for name, p in trainable if name.startswith(ENCODER_PREFIX)]
    head = [p for name, p in trainable if not name.startswith(ENCODER_PREFIX)]
    groups = [{"params": head, "lr": config.head_lr or config.lr, "initial_lr": config.head_lr or config.lr}]
    if encoder:
        groups.append({"params": encoder, "lr": config.lr, "initial_lr": config.lr})
    return torch.optim.Adam(groups, fused=True)  # one kernel per step, on CPU and CUDA alike


def decay_lr(optimizer: torch.optim.Optimizer, step: int, total: int) -> None:
    """The linear schedule: each group's learning rate times (total - step) / total at step ``step``.

    Hugging Face's ``linear`` schedule without warm-up (``run_ner.py``'s
    default), used to check our harness against its ``Trainer``.
    """
    for group in optimizer.param_groups:
        group["lr"] = group["initial_lr"] * max(0.0, (total - step) / total)


class Run(RunModel):
    """A run's model (:class:`~entity_bert.runs.model.RunModel`), its data and its training loop."""

    def examples(self, split: str, cached: bool) -> list[Example]:
        """A split's examples; with ``cached``, what the fixed part of the encoder computes, from its cache.

        The ``frozen`` regime caches the encoder's word features; the ``top``
        regime the piece states of the fixed layers below the trained ones.
        """
        config = self.config
        path = split_file(config, split)
        sentences = read_jsonl(path)
        chosen = subset_indexes(config, split, len(sentences))
        sentences = [sentences[i] for i in chosen]
        examples = self.examples_for(sentences)
        if cached:
            cache = Path(config.features_dir) / config.corpus / config.label_set
            source = self.model.source
            if config.regime == "top":
                states = cached_lower_states(
                    source.word_encoder, config.encoder, sentences, chosen, path, cache, source.fixed_layers
                )
                for example, windows in zip(examples, states, strict=True):
                    example.lower = windows
                return examples
            features = cached_features(source.word_encoder, config.encoder, sentences, chosen, path, cache)
            for example, vectors in zip(examples, features, strict=True):
                example.features, example.encoded = vectors, None
        return examples

    def train_epoch(
        self,
        train: list[Example],
        optimizer: torch.optim.Optimizer,
        epoch: int,
        stop_after_steps: int | None = None,
        steps_done: int = 0,
    ) -> float:
        """One pass over ``train`` in the epoch's seeded, length-bucketed order; the mean loss."""
        config, model = self.config, self.model
        generator = torch.Generator().manual_seed(config.seed * 1000 + epoch)
        batches = length_batches(train, config.batch_size, generator)
        model.train()
        total = 0.0
        for step, indexes in enumerate(progress(batches, desc=f"epoch {epoch}", unit="batch")):
            if stop_after_steps is not None and steps_done + step == stop_after_steps:
                raise Interrupted(f"stopped after {stop_after_steps} steps")
            if config.lr_schedule == "linear":
                decay_lr(optimizer, (epoch - 1) * len(batches) + step, config.epochs * len(batches))
            with autocast(self.device, self.precision):
                loss = model.loss(to_device(collate([train[i] for i in indexes]), self.device))
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
            optimizer.step()
            total += loss.item()
        return total / max(len(batches), 1)

    def train(
        self, stop_after_steps: int | None = None, on_epoch: Callable[[dict], None] | None = None
    ) -> dict:
        """Train (or resume) to the end; return the training state (history, best epoch, time).

        ``on_epoch`` is called with the state after every epoch (the grid search reports it).
        """
        config, model = self.config, self.model
        folder = config.checkpoint_dir
        _claim(folder, config)
        if self.vocabulary is not None:
            self.vocabulary.save(folder / "vocabulary.json")
        optimizer = make_optimizer(model, config)
        state = {
            "epoch": 0,
            "best_f1": -1.0,
            "best_epoch": 0,
            "bad_epochs": 0,
            "history": [],
            "training_s": 0.0,
        }
        if (folder / "last" / "state.json").exists():
            state = checkpoint.resume(folder / "last", model, optimizer)
        cached = config.regime in ("frozen", "top") and caches_features(config.model.name)
        train, dev = self.examples("train", cached), self.examples("dev", cached)
        steps = 0  # counted from this (possibly resumed) start, for stop_after_steps
        model.memoise(True)  # what does not change while training (MRC: a frozen encoder's states)
        while state["epoch"] < config.epochs and state["bad_epochs"] < config.patience:
            epoch = state["epoch"] + 1
            started = time.perf_counter()
            total = self.train_epoch(train, optimizer, epoch, stop_after_steps, steps)
            steps += math.ceil(len(train) / config.batch_size)
            model.fit_support(train, config.eval_batch_size, self.device)
            scores = dev_scores(model, dev, self.tags, config.eval_batch_size, self.device, self.precision)
            f1 = scores["micro"]["f1"]
            state["training_s"] += time.perf_counter() - started
            state["history"].append({"epoch": epoch, "loss": total, "dev_f1": f1})
            state["epoch"] = epoch
            if f1 > state["best_f1"]:
                state.update(best_f1=f1, best_epoch=epoch, bad_epochs=0, best_dev=scores)
                checkpoint.save(folder / "best", model)
            else:
                state["bad_epochs"] += 1
            checkpoint.save(folder / "last", model, optimizer, state)
            if on_epoch is not None:
                on_epoch(state)
        model.memoise(False)
        checkpoint.load_model(model, folder / "best")
        return state


def _claim(folder: Path, config: RunConfig) -> None:
    """Write the run's configuration, or check that an existing run has the same one."""
    path = folder / "config.json"
    content = json.dumps(config.to_dict(), indent=1, sort_keys=True)
    if path.exists() and path.read_text() != content:
        raise InputError(path, None, "a run with another configuration (another profile?): remove its folder")
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
