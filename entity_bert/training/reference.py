"""The reference row: Hugging Face's own token-classification recipe, trained by its ``Trainer``.

A check of our harness, not one of the paper's systems. It follows
``run_ner.py`` (transformers' examples): ``AutoModelForTokenClassification``
on the same encoder, the label on each word's first sub-token (-100 on the
others and on special tokens), ``Trainer`` with AdamW, a linear schedule to 0
without warm-up, for a fixed number of epochs, the final model kept (no
selection on dev). The run's settings carry the recipe (the ``full``
profile: lr 5e-5, 3 epochs, batch 8, ``run_ner.py``'s defaults).

It reads the same splits as every other system and is scored the same way:
its per-word log-probabilities (at the first sub-token) are decoded both by
argmax (the recipe's own reading) and under IOB2 constraints
(:mod:`entity_bert.models.decoding`), and each decoding is scored strict and
by conlleval (:func:`entity_bert.training.evaluation.score_test`). A sentence
longer than the encoder's 512 positions is truncated as ``run_ner.py`` does;
its cut-off words are predicted ``O`` (and counted), never dropped from the
score.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import torch

from entity_bert.core.device import pick_device, pick_precision
from entity_bert.core.fileio import atomic_write_text
from entity_bert.data.corpus import Sentence
from entity_bert.data.iob2 import DECODINGS
from entity_bert.models.config import EncoderSpec
from entity_bert.models.decoding import best_tags
from entity_bert.runs.config import RunConfig
from entity_bert.runs.data import label_tags, load_split
from entity_bert.scoring.metrics import entity_scores

MAX_PIECES = 512  # the encoder's positions; run_ner.py truncates there
IGNORED = -100  # the label index the loss skips (run_ner.py's rule)


def _load(spec: EncoderSpec, tags: list[str]):
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    from entity_bert.models.encoder import checkpoint_path, fingerprint

    fingerprint(spec)  # the packaged encoder is checked against its sha256
    path = checkpoint_path(spec)
    model = AutoModelForTokenClassification.from_pretrained(
        path,
        num_labels=len(tags),
        id2label=dict(enumerate(tags)),
        label2id={t: i for i, t in enumerate(tags)},
    )
    return model, AutoTokenizer.from_pretrained(path)


def encode(tokenizer, sentence: Sentence, index: dict[str, int] | None = None) -> dict:
    """Word pieces of one sentence, and (with ``index``) each word's label on its first sub-token."""
    encoded = tokenizer(sentence.tokens, is_split_into_words=True, truncation=True, max_length=MAX_PIECES)
    item = {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"]}
    firsts, previous = [], None
    for position, word in enumerate(encoded.word_ids()):
        if word is not None and word != previous:
            firsts.append(position)
        previous = word
    item["first_pieces"] = firsts  # one per word that survived truncation
    if index is not None:
        labels = [IGNORED] * len(item["input_ids"])
        for word, position in enumerate(firsts):
            labels[position] = index[sentence.tags[word]]
        item["labels"] = labels
    return item


def labelled(tokenizer, sentences: list[Sentence], tags: list[str]) -> list[dict]:
    """Training items: word pieces, attention mask, and labels on each word's first sub-token."""
    index = {tag: i for i, tag in enumerate(tags)}
    items = [encode(tokenizer, s, index) for s in sentences]
    for item in items:
        del item["first_pieces"]
    return items


def trainer_arguments(output_dir: str, config: RunConfig, precision: str, **changes):
    """``run_ner.py``'s recipe as ``TrainingArguments``: AdamW, a linear schedule to 0, no warm-up.

    ``changes`` (e.g. ``train_sampling_strategy="group_by_length"`` in the bench) are set on top.
    """
    from transformers import TrainingArguments

    device = pick_device(config.device)
    settings = {
        "output_dir": output_dir,
        "per_device_train_batch_size": config.batch_size,
        "learning_rate": config.lr,
        "num_train_epochs": config.epochs,
        "lr_scheduler_type": "linear",
        "max_grad_norm": config.max_grad_norm,
        "save_strategy": "no",
        "logging_strategy": "epoch",
        "report_to": "none",
        "disable_tqdm": not sys.stderr.isatty(),
        "use_cpu": device.type == "cpu",
        "bf16": precision == "bf16",
        "seed": config.seed,
    }
    return TrainingArguments(**(settings | changes))


def word_log_probs(model, tokenizer, sentences: list[Sentence], batch_size: int, device, precision: str):
    """Per sentence, a [words, tags] tensor of log-probabilities; cut-off words are certain ``O``.

    Returns the tensors and the number of words cut off by truncation.
    """
    from entity_bert.core.device import autocast

    model.eval()
    encoded = [encode(tokenizer, s) for s in sentences]
    order = sorted(range(len(sentences)), key=lambda i: len(encoded[i]["input_ids"]))
    results: list[torch.Tensor | None] = [None] * len(sentences)
    cut = 0
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            batch = tokenizer.pad(
                [{k: encoded[i][k] for k in ("input_ids", "attention_mask")} for i in chosen],
                return_tensors="pt",
            )
            with autocast(device, precision):
                logits = model(**{k: v.to(device) for k, v in batch.items()}).logits
            log_probs = torch.log_softmax(logits.float(), dim=-1).cpu()
            for row, i in enumerate(chosen):
                words = len(sentences[i].tokens)
                firsts = encoded[i]["first_pieces"]
                scores = torch.full((words, log_probs.shape[-1]), -1e4)
                scores[:, 0] = 0.0  # tag 0 is O (iob2.tag_vocabulary): a cut-off word is O
                scores[: len(firsts)] = log_probs[row, firsts]
                cut += words - len(firsts)
                results[i] = scores
    return results, cut


def decoded_tags(scores: list[torch.Tensor], tags: list[str]) -> dict[str, list[list[str]]]:
    """The tags of every sentence under each decoding of :data:`DECODINGS`."""
    width = max(len(s) for s in scores)
    padded = torch.full((len(scores), width, len(tags)), -1e4)
    mask = torch.zeros(len(scores), width, dtype=torch.bool)
    for i, s in enumerate(scores):
        padded[i, : len(s)] = s
        mask[i, : len(s)] = True
    return {d: [[tags[t] for t in row] for row in best_tags(padded, mask, tags, d)] for d in DECODINGS}


class Reference:
    """A trained reference model that predicts both decodings (the study's predictor interface)."""

    def __init__(self, model, tokenizer, tags: list[str], config: RunConfig, device, precision: str) -> None:
        self.model, self.tokenizer, self.tags = model, tokenizer, tags
        self.config, self.device, self.precision = config, device, precision
        self.cut_words = 0

    def __call__(self, sentences: list[Sentence]) -> dict[str, list[list[str]]]:
        scores, cut = word_log_probs(
            self.model, self.tokenizer, sentences, self.config.eval_batch_size, self.device, self.precision
        )
        self.cut_words += cut
        return decoded_tags(scores, self.tags)


def train_reference(config: RunConfig) -> tuple[Reference, dict]:
    """Fine-tune with ``Trainer`` on the run's training split; the model and its training record."""
    import transformers
    from transformers import DataCollatorForTokenClassification, Trainer

    transformers.logging.set_verbosity_error()
    device = pick_device(config.device)
    precision = pick_precision(config.precision, device)
    tags = label_tags(config)
    transformers.set_seed(config.seed)
    model, tokenizer = _load(config.encoder, tags)
    train = labelled(tokenizer, load_split(config, "train"), tags)
    with tempfile.TemporaryDirectory() as scratch:
        trainer = Trainer(
            model=model,
            args=trainer_arguments(scratch, config, precision),
            train_dataset=train,
            data_collator=DataCollatorForTokenClassification(tokenizer),
        )
        started = time.perf_counter()
        trainer.train()
        training_s = time.perf_counter() - started
        losses = [entry for entry in trainer.state.log_history if "loss" in entry]
    model = trainer.model.to(device)
    folder = Path(config.checkpoint_dir)
    saved = json.dumps(config.to_dict(), indent=1, sort_keys=True)
    atomic_write_text(folder / "config.json", saved)  # as every run's: `evaluate --run` reads it
    history = [{"epoch": round(entry["epoch"]), "loss": entry["loss"]} for entry in losses]
    model.save_pretrained(folder / "best")  # safetensors and the model's config.json
    tokenizer.save_pretrained(folder / "best")
    reference = Reference(model, tokenizer, tags, config, device, precision)
    dev = load_split(config, "dev")
    dev_scores = entity_scores([s.tags for s in dev], reference(dev)["argmax"])
    state = {"training_s": training_s, "history": history, "dev_scores": dev_scores}
    return reference, state


def timing(reference: Reference, sentences: list[Sentence]) -> dict:
    """Parameters, latency (one sentence at a time) and throughput (batched) of the reference model."""
    count = sum(p.numel() for p in reference.model.parameters()) / 1e6
    started = time.perf_counter()
    for sentence in sentences:
        word_log_probs(reference.model, reference.tokenizer, [sentence], 1, reference.device, "fp32")
    latency = (time.perf_counter() - started) / len(sentences)
    started = time.perf_counter()
    word_log_probs(
        reference.model,
        reference.tokenizer,
        sentences,
        reference.config.eval_batch_size,
        reference.device,
        "fp32",
    )
    return {
        "parameters_m": count,
        "trainable_parameters_m": count,
        "flops_g": None,  # not counted for the reference
        "latency_ms": 1000 * latency,
        "throughput_sentences_per_s": len(sentences) / (time.perf_counter() - started),
        "timed_sentences": len(sentences),
        "device": str(reference.device),
        "threads": torch.get_num_threads(),
    }


def load_reference(config: RunConfig) -> Reference:
    """A finished reference run, read back from its checkpoint (``<run>/best``, safetensors)."""
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    folder = Path(config.checkpoint_dir) / "best"
    device = pick_device(config.device)
    model = AutoModelForTokenClassification.from_pretrained(folder, use_safetensors=True).to(device)
    tags = [model.config.id2label[i] for i in range(model.config.num_labels)]
    tokenizer = AutoTokenizer.from_pretrained(folder)
    return Reference(model, tokenizer, tags, config, device, pick_precision(config.precision, device))
