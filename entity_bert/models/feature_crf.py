"""The "CRF" baseline: a feature-based linear-chain CRF trained with crfsuite.

This is the classic strong non-neural NER baseline (Lafferty et al. 2001),
with hand-made features in the spirit of the CoNLL-2003 baselines and of
Okazaki's crfsuite tutorial. The paper (Lu et al. 2023) names CRF models in
its related work as a baseline family; no "CRF" row of its Tables 2-5 is
among the study's claims, so this model gives context, not a checked number.

Features of a token (:func:`word_features`): a bias, the lowercased word,
its prefixes and suffixes of 2-4 characters, its word shape (``Xxxxx``,
``XX-d``: runs capped at four) and short shape (``Xx``, ``X-d``: runs
collapsed), flags for upper case, title case, all digits, some digit, a dash
and all punctuation, a length bucket, ``BOS``/``EOS`` at the sentence ends,
and the same lexical features of the neighbours within ``window`` tokens,
prefixed ``-1:``, ``+1:``, ... (a neighbour beyond an end gives ``-2:BOS``,
``+1:EOS``, ...).

Training minimises the CRF negative log-likelihood of the gold tag
sequences plus an elastic-net penalty, ``c1 * ||w||_1 + c2 * ||w||_2^2``,
with L-BFGS (OWL-QN when ``c1 > 0``) for at most ``max_iterations``
iterations. crfsuite's L-BFGS is deterministic: the same sentences, in the
same order, and config give the same model and predictions.

Predictions are valid IOB2: crfsuite's Viterbi knows nothing of IOB2 and
may emit ``I-X`` after ``O`` or after a tag of another type, so each
predicted sequence is passed through :func:`iob2.repair`, which turns such an
``I-X`` into ``B-X`` (the repository's one repair policy, the one conlleval
and seqeval apply); :attr:`FeatureCRF.last_repairs` counts the repairs of
the last :meth:`FeatureCRF.predict` call.

We train with ``pycrfsuite.Trainer`` directly rather than
``sklearn_crfsuite.CRF``: the model then is crfsuite's own bytes, held in
memory, so saving is one atomic write and loading is one read, with no numpy
object arrays, no estimator temp-file bookkeeping and no pickle. A saved
model is a directory with ``config.json`` and ``model.crfsuite`` (crfsuite's
binary format).
"""

from __future__ import annotations

import json
import struct
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pycrfsuite

from entity_bert.core.fileio import atomic_write_bytes, atomic_write_text
from entity_bert.data import iob2
from entity_bert.data.corpus import Sentence

CONFIG_FILE = "config.json"
MODEL_FILE = "model.crfsuite"

AFFIX_LENGTHS = (2, 3, 4)
SHAPE_RUN_CAP = 4
# (largest length, bucket name); longer words are "12+".
LENGTH_BUCKETS = ((1, "1"), (2, "2"), (4, "3-4"), (7, "5-7"), (11, "8-11"))

Features = dict[str, str | float | bool]


@dataclass
class FeatureCRFConfig:
    """Hyper-parameters of the CRF baseline."""

    c1: float = 0.1  # L1 penalty
    c2: float = 0.1  # L2 penalty
    max_iterations: int = 100
    window: int = 2  # neighbouring words whose features are included
    all_possible_transitions: bool = True

    def __post_init__(self) -> None:
        if self.c1 < 0 or self.c2 < 0:
            raise ValueError(f"c1 and c2 must be >= 0, not {self.c1} and {self.c2}")
        if self.max_iterations < 1:
            raise ValueError(f"max_iterations must be >= 1, not {self.max_iterations}")
        if self.window < 0:
            raise ValueError(f"window must be >= 0, not {self.window}")


def _char_class(char: str) -> str:
    if char.isupper():
        return "X"
    if char.isdigit():
        return "d"
    if char.isalpha():
        return "x"  # lower case, or a script without case
    return char


def word_shape(word: str, cap: int | None = SHAPE_RUN_CAP) -> str:
    """``X`` upper, ``x`` other letters, ``d`` digits, other characters kept; runs capped at ``cap``.

    ``word_shape("Aspirin") == "Xxxxx"``; with ``cap=1`` (the short shape) ``"Xx"``.
    """
    shape: list[str] = []
    run = 0
    for char in word:
        kind = _char_class(char)
        run = run + 1 if shape and shape[-1] == kind else 1
        if cap is None or run <= cap:
            shape.append(kind)
    return "".join(shape)


def length_bucket(word: str) -> str:
    """The length of ``word`` as a coarse bucket: ``1``, ``2``, ``3-4``, ``5-7``, ``8-11``, ``12+``."""
    for largest, name in LENGTH_BUCKETS:
        if len(word) <= largest:
            return name
    return "12+"


def lexical_features(word: str) -> Features:
    """The features of one word on its own (no context)."""
    lower = word.lower()
    features: Features = {
        "lower": lower,
        "shape": word_shape(word),
        "short_shape": word_shape(word, cap=1),
        "length": length_bucket(word),
        "is_upper": word.isupper(),
        "is_title": word.istitle(),
        "is_digit": word.isdigit(),
        "has_digit": any(char.isdigit() for char in word),
        "has_hyphen": any(unicodedata.category(char) == "Pd" for char in word),
        "is_punct": bool(word) and all(unicodedata.category(char).startswith("P") for char in word),
    }
    # An affix as long as the word would only repeat ``lower``.
    for n in AFFIX_LENGTHS:
        if len(lower) > n:
            features[f"prefix{n}"] = lower[:n]
            features[f"suffix{n}"] = lower[-n:]
    return features


def word_features(tokens: list[str], i: int, window: int) -> Features:
    """The crfsuite features of token ``i`` of ``tokens`` (see the module docstring)."""
    if not 0 <= i < len(tokens):
        raise IndexError(f"token {i} of a sentence of {len(tokens)}")
    if window < 0:
        raise ValueError(f"window must be >= 0, not {window}")
    features: Features = {"bias": 1.0}
    features.update(lexical_features(tokens[i]))
    if i == 0:
        features["BOS"] = True
    if i == len(tokens) - 1:
        features["EOS"] = True
    for offset in [*range(-window, 0), *range(1, window + 1)]:
        j = i + offset
        prefix = f"{offset:+d}:"
        if 0 <= j < len(tokens):
            features.update({prefix + key: value for key, value in lexical_features(tokens[j]).items()})
        else:
            features[prefix + ("BOS" if j < 0 else "EOS")] = True
    return features


def sentence_features(tokens: list[str], window: int) -> list[Features]:
    """:func:`word_features` of every token of a sentence."""
    return [word_features(tokens, i, window) for i in range(len(tokens))]


def _model_features(model: bytes) -> Iterator[tuple[int, int, int, float]]:
    """``(type, source, destination, weight)`` of each feature of a crfsuite model file.

    The file (crfsuite's ``crf1d_model.c``, little-endian) starts with a
    48-byte header of twelve uint32: magic ``lCRF``, size, type ``FOMC``,
    version, three counts and five offsets, the features' offset at byte 28.
    The feature chunk there is ``FEAT``, its size, the number of features,
    then 20 bytes a feature: three uint32 and a float64. Type 0 is a state
    feature (attribute -> label), type 1 a transition (label -> label).
    """
    if model[:4] != b"lCRF" or model[8:12] != b"FOMC":
        raise ValueError("not a crfsuite CRF1d model")
    (offset,) = struct.unpack_from("<I", model, 28)
    chunk, size, count = struct.unpack_from("<4sII", model, offset)
    if chunk != b"FEAT" or size != 12 + 20 * count or offset + size > len(model):
        raise ValueError("crfsuite model with a malformed feature chunk")
    yield from struct.iter_unpack("<IIId", model[offset + 12 : offset + size])


class FeatureCRF:
    """A linear-chain CRF over :func:`word_features`, trained with crfsuite's L-BFGS."""

    def __init__(self, config: FeatureCRFConfig) -> None:
        self.config = config
        self._model: bytes | None = None  # crfsuite's model file, as bytes
        self._tagger: pycrfsuite.Tagger | None = None
        self.last_iteration: dict[str, Any] | None = None  # crfsuite's log of the last training iteration
        self.last_repairs = 0  # I-X -> B-X repairs in the last predict()

    def fit(self, train: list[Sentence], dev: list[Sentence] | None = None) -> FeatureCRF:
        """Train on ``train``; return ``self``.

        ``dev``, if given, is crfsuite's holdout set: it is evaluated (token
        level) at each iteration and reported in :attr:`last_iteration`
        (``avg_f1``, ``item_accuracy``, per-label ``scores``), but never
        trained on and never stops training early. Empty sentences are
        skipped.
        """
        trainer = pycrfsuite.Trainer(verbose=False)
        trainer.select("lbfgs", "crf1d")
        trainer.set_params(
            {
                "c1": self.config.c1,
                "c2": self.config.c2,
                "max_iterations": self.config.max_iterations,
                "feature.possible_transitions": self.config.all_possible_transitions,
            }
        )
        trained = self._append(trainer, train, group=0)
        if not trained:
            raise ValueError("no non-empty training sentence")
        holdout = -1
        if dev and self._append(trainer, dev, group=1):
            holdout = 1
        with tempfile.TemporaryDirectory(prefix="feature-crf-") as tmp:
            path = Path(tmp) / MODEL_FILE
            trainer.train(str(path), holdout=holdout)
            model = path.read_bytes()
        self._open(model)
        self.last_iteration = trainer.logparser.last_iteration
        return self

    def _append(self, trainer: pycrfsuite.Trainer, sentences: list[Sentence], group: int) -> int:
        appended = 0
        for index, sentence in enumerate(sentences):
            if len(sentence.tokens) != len(sentence.tags):
                raise ValueError(
                    f"sentence {index} ({sentence.source}): "
                    f"{len(sentence.tokens)} tokens but {len(sentence.tags)} tags"
                )
            if sentence.tokens:
                trainer.append(sentence_features(sentence.tokens, self.config.window), sentence.tags, group)
                appended += 1
        return appended

    def _open(self, model: bytes) -> None:
        tagger = pycrfsuite.Tagger()
        tagger.open_inmemory(model)
        # crfsuite reads the model in place: self._model keeps its buffer alive.
        self._model, self._tagger = model, tagger

    def _fitted_tagger(self) -> pycrfsuite.Tagger:
        if self._tagger is None:
            raise RuntimeError("the CRF is not trained: call fit() or load() first")
        return self._tagger

    def predict(self, sentences: list[Sentence]) -> list[list[str]]:
        """Valid IOB2 tags for each sentence (invalid ``I-X`` repaired to ``B-X``)."""
        tagger = self._fitted_tagger()
        predictions: list[list[str]] = []
        self.last_repairs = 0
        for sentence in sentences:
            if not sentence.tokens:
                predictions.append([])
                continue
            tags, repairs = iob2.repair(tagger.tag(sentence_features(sentence.tokens, self.config.window)))
            self.last_repairs += repairs
            predictions.append(tags)
        return predictions

    def labels(self) -> list[str]:
        """The tags the model knows, sorted."""
        return sorted(self._fitted_tagger().labels())

    def parameter_count(self) -> int:
        """Non-zero weights of the model: state features plus transitions.

        crfsuite writes only the features whose weight is non-zero; they are
        counted from the model's feature chunk (its header's ``num_features``
        is always 0). The count is of weights, so it does not depend on how
        crfsuite's dump prints feature names.
        """
        self._fitted_tagger()
        assert self._model is not None
        return sum(weight != 0.0 for _, _, _, weight in _model_features(self._model))

    def save(self, directory: Path) -> None:
        """Write ``config.json`` and ``model.crfsuite`` into ``directory``, each atomically."""
        self._fitted_tagger()
        assert self._model is not None
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(directory / MODEL_FILE, self._model)
        atomic_write_text(
            directory / CONFIG_FILE, json.dumps(asdict(self.config), indent=2, sort_keys=True) + "\n"
        )

    @classmethod
    def load(cls, directory: Path) -> FeatureCRF:
        """A model written by :meth:`save` (no pickle: JSON and crfsuite's own format)."""
        directory = Path(directory)
        config = FeatureCRFConfig(**json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8")))
        model = cls(config)
        model._open((directory / MODEL_FILE).read_bytes())
        return model
