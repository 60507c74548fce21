"""Caches of a fixed encoder's output: word features (regime `frozen`), lower layers' states (`top`).

With the encoder fixed, its word features (one vector per word, from the
first word piece; :mod:`entity_bert.models.encoder`) never change, so they are
computed once per split and stored as float32 in one safetensors file:
``features`` [all words, hidden] and ``lengths`` [sentences]. With only its
bottom layers fixed (the ``top`` regime), the piece states after them are
cached the same way, per window: ``states`` [all pieces, hidden], ``pieces``
[windows] and ``windows`` [sentences]. The file name holds a key derived from
the encoder's weights hash, the windowing settings, the split file's sha256,
the sentences used (all, or a subset) and, for lower states, the layers
fixed, so a changed encoder or corpus never reads a stale cache.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import Tensor

from entity_bert.core.fileio import atomic_path, sha256_file
from entity_bert.core.progress import progress
from entity_bert.data.corpus import Sentence
from entity_bert.models.batching import Example, collate, length_batches
from entity_bert.models.config import EncoderSpec
from entity_bert.models.encoder import WordEncoder, encode_sentence, fingerprint, load_tokenizer


def cache_key(spec: EncoderSpec, split_file: Path, indexes: list[int]) -> str:
    """16 hex digits identifying (encoder weights, windowing, split contents, sentences used)."""
    windowing = {k: v for k, v in asdict(spec).items() if k != "sha256"}
    parts = [
        fingerprint(spec),
        json.dumps(windowing, sort_keys=True),
        sha256_file(split_file),
        json.dumps(indexes),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _encoder_batches(
    word_encoder: WordEncoder, tokenizer, sentences: list[Sentence], spec: EncoderSpec, desc: str
):
    """The sentences' word-piece windows in length-sorted batches, on the encoder's device (eval mode).

    Yields (sentence indexes, their examples, the collated batch).
    """
    word_encoder.eval()
    device = next(word_encoder.parameters()).device
    examples = [
        Example([0] * len(s.tokens), encoded=encode_sentence(tokenizer, s.tokens, spec)) for s in sentences
    ]
    for indexes in progress(length_batches(examples, 32, None), desc=desc):
        batch = collate([examples[i] for i in indexes])
        keys = ("input_ids", "attention_mask", "word_index")
        yield indexes, [examples[i] for i in indexes], {k: batch[k].to(device) for k in keys}


@torch.no_grad()
def compute_features(
    word_encoder: WordEncoder, tokenizer, sentences: list[Sentence], spec: EncoderSpec
) -> list[Tensor]:
    """Word features of each sentence, [words, hidden], computed in eval mode."""
    features: list[Tensor | None] = [None] * len(sentences)
    for indexes, examples, batch in _encoder_batches(word_encoder, tokenizer, sentences, spec, "features"):
        states = word_encoder(batch["input_ids"], batch["attention_mask"], batch["word_index"]).cpu()
        for row, (i, example) in enumerate(zip(indexes, examples, strict=True)):
            features[i] = states[row, : len(example)].clone()
    return features


def cached_features(
    word_encoder: WordEncoder,
    spec: EncoderSpec,
    sentences: list[Sentence],
    indexes: list[int],
    split_file: Path,
    cache_dir: Path,
) -> list[Tensor]:
    """Word features of ``sentences`` (the split's sentences at ``indexes``), cached."""
    path = cache_dir / f"{split_file.stem}-{cache_key(spec, split_file, indexes)}.safetensors"
    if not path.exists():
        features = compute_features(word_encoder, load_tokenizer(spec), sentences, spec)
        tensors = {
            "features": torch.cat(features) if features else torch.zeros(0, word_encoder.output_size),
            "lengths": torch.tensor([len(f) for f in features], dtype=torch.long),
        }
        with atomic_path(path) as tmp:
            save_file(tensors, tmp)
    tensors = load_file(path)
    lengths = tensors["lengths"].tolist()
    if lengths != [len(s.tokens) for s in sentences]:
        raise ValueError(f"{path}: cached features do not match the split's sentences")
    return list(torch.split(tensors["features"], lengths))


@torch.no_grad()
def compute_lower_states(
    word_encoder: WordEncoder, tokenizer, sentences: list[Sentence], spec: EncoderSpec, layers: int
) -> list[list[Tensor]]:
    """Per sentence, per window: piece states [pieces, hidden] after the first ``layers`` layers (eval)."""
    states: list[list[Tensor] | None] = [None] * len(sentences)
    for indexes, examples, batch in _encoder_batches(
        word_encoder, tokenizer, sentences, spec, "lower states"
    ):
        hidden = word_encoder.lower(batch["input_ids"], batch["attention_mask"], layers).cpu()
        row = 0
        for i, example in zip(indexes, examples, strict=True):
            windows = example.encoded.windows
            states[i] = [hidden[row + k, : len(w)].clone() for k, w in enumerate(windows)]
            row += len(windows)
    return states


def cached_lower_states(
    word_encoder: WordEncoder,
    spec: EncoderSpec,
    sentences: list[Sentence],
    indexes: list[int],
    split_file: Path,
    cache_dir: Path,
    layers: int,
) -> list[list[Tensor]]:
    """The lower states of ``sentences`` (the split's sentences at ``indexes``), cached."""
    key = cache_key(spec, split_file, indexes)
    path = cache_dir / f"{split_file.stem}-lower{layers}-{key}.safetensors"
    if not path.exists():
        states = compute_lower_states(word_encoder, load_tokenizer(spec), sentences, spec, layers)
        windows = [w for sentence in states for w in sentence]
        tensors = {
            "states": torch.cat(windows) if windows else torch.zeros(0, word_encoder.output_size),
            "pieces": torch.tensor([len(w) for w in windows], dtype=torch.long),
            "windows": torch.tensor([len(s) for s in states], dtype=torch.long),
        }
        with atomic_path(path) as tmp:
            save_file(tensors, tmp)
    tensors = load_file(path)
    counts = tensors["windows"].tolist()
    if len(counts) != len(sentences):
        raise ValueError(f"{path}: cached lower states do not match the split's sentences")
    windows = list(torch.split(tensors["states"], tensors["pieces"].tolist()))
    starts = [sum(counts[:i]) for i in range(len(counts))]
    return [windows[start : start + count] for start, count in zip(starts, counts, strict=True)]
