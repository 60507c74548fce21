"""Named entities in raw text, with exact character offsets: what ``entity_bert.load`` returns.

>>> recognise = entity_bert.load("models/maccrobat2020-entity-bert")
>>> recognise("Started on a β-blocker;\\r\\nT 37.5 °C.")
[Mention(start=13, end=22, type='Drug', text='β-blocker', score=0.91), ...]

From text to mentions:

1. Lines: the text is cut at every line break (``\\n``, ``\\r\\n`` or a lone
   ``\\r``); a line break always ends a sentence, as in the corpora.
2. Sentences and words: :func:`entity_bert.data.segmentation.split_sentences`, the
   very segmenter that made the training data, so a document is read as it
   was in training; every word is an exact slice ``text[start:end]``.
3. Encoder input: word pieces in windows of ``window`` pieces overlapping by
   ``overlap`` (:func:`entity_bert.models.encoder.encode_sentence`), so a sentence of
   any length is read whole; each word takes the window where it has the
   most context.
4. Tags: one pass of the model over length-sorted batches, decoded as
   ``decode`` says: ``constrained`` (the default; the most probable valid
   IOB2 sequence, :mod:`entity_bert.models.decoding`) or ``argmax`` (each
   word's best tag). IOB2 tags are read into entities as seqeval does in
   strict mode (the reading the study's scores use), so the mentions are
   exactly the entities that were scored.
5. Offsets: a mention runs from its first word's start to its last word's
   end, so ``text[start:end] == mention.text`` whatever the newlines, tabs,
   spaces or Unicode.

``precision="bf16"``: the encoder's weights are stored in bfloat16 and the
rest runs under autocast (CPUs with bf16 units, GPUs); about twice the
throughput, with the same mentions as fp32 for about 99 in 100 (measured by
``entity-bert bench --raw-text``). ``auto`` (the default) picks bf16 where the
hardware runs it natively and fp32 elsewhere (on an AVX2-only CPU, emulated
bf16 was measured 7x slower than fp32).

``score``: for softmax heads (Entity-BERT, BERT), the mean over the
mention's words of the probability of the predicted tag; for models that
decode otherwise (CRF heads, span-based systems) it is ``None``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple, overload

import torch

from entity_bert.core.device import autocast, pick_device, pick_precision, to_device
from entity_bert.data.corpus import Sentence
from entity_bert.data.iob2 import DECODINGS, entity_spans
from entity_bert.data.segmentation import split_sentences
from entity_bert.models.batching import Example, collate
from entity_bert.models.decoding import best_tags
from entity_bert.models.encoder import load_tokenizer
from entity_bert.models.registry import input_kind
from entity_bert.models.tagger import Tagger
from entity_bert.runs.data import build_examples
from entity_bert.serve.export import ExportedModel, read

_LINE = re.compile(r"[^\r\n]+")
PIECES_PER_BATCH = 8192  # padded word pieces a batch may hold


class Mention(NamedTuple):
    """An entity found in a text: ``text[start:end] == mention.text``."""

    start: int
    end: int
    type: str
    text: str
    score: float | None


def sentences_of(text: str) -> list[list[tuple[int, int]]]:
    """Sentences of ``text`` as word offsets, a line break (LF, CRLF or CR) always ending one."""
    sentences = []
    for line in _LINE.finditer(text):
        for words in split_sentences(line.group()):
            sentences.append([(start + line.start(), end + line.start()) for start, end in words])
    return sentences


def text_sentences(texts: list[str]) -> tuple[list[int], list[Sentence]]:
    """The sentences of all ``texts``, each with the index of the text it comes from."""
    owners, sentences = [], []
    for k, text in enumerate(texts):
        for words in sentences_of(text):
            owners.append(k)
            sentences.append(Sentence([text[s:e] for s, e in words], ["O"] * len(words), words, "text"))
    return owners, sentences


class Recogniser:
    """A trained model applied to raw text; call it on a string or a list of strings."""

    def __init__(
        self,
        exported: ExportedModel,
        device: str = "auto",
        precision: str = "auto",
        decode: str = "constrained",
    ) -> None:
        if decode not in DECODINGS:
            raise ValueError(f"decode must be one of {', '.join(DECODINGS)}, not {decode!r}")
        self.decode = decode  # constrained: valid IOB2 by construction (models/decoding.py)
        self.exported = exported
        self.config = exported.config
        self.tags = exported.tags
        self.types = sorted({tag[2:] for tag in self.tags if tag != "O"})
        self.device = pick_device(device)
        self.precision = pick_precision(precision, self.device)
        self.model = exported.model.to(self.device).eval()
        if (
            self.precision == "bf16"
            and isinstance(self.model, Tagger)
            and hasattr(self.model.source, "word_encoder")
        ):
            self.model.source.word_encoder.to(torch.bfloat16)  # stored in bf16: no cast at every batch
        self.kind = input_kind(self.config.model.name)
        self.tokenizer = load_tokenizer(self.config.encoder) if self.kind == "encoder" else None
        self.budget = PIECES_PER_BATCH

    @classmethod
    def load(
        cls, folder: str | Path, device: str = "auto", precision: str = "auto", decode: str = "constrained"
    ) -> Recogniser:
        """Verify and load a model directory written by ``entity-bert export``."""
        return cls(read(folder), device, precision, decode)

    @overload
    def __call__(self, text: str) -> list[Mention]: ...
    @overload
    def __call__(self, text: list[str]) -> list[list[Mention]]: ...

    def __call__(self, text):
        """Mentions in ``text`` (a string), or in each of a list of strings."""
        if isinstance(text, str):
            return self.recognise([text])[0]
        texts = list(text)
        if not all(isinstance(t, str) for t in texts):
            raise TypeError("a recogniser reads a string or a list of strings")
        return self.recognise(texts)

    def recognise(self, texts: list[str]) -> list[list[Mention]]:
        """Mentions in each text; the texts' sentences share batches."""
        owners, sentences = text_sentences(texts)
        mentions: list[list[Mention]] = [[] for _ in texts]
        for k, sentence, (tags, scores) in zip(owners, sentences, self.tag(sentences), strict=True):
            mentions[k].extend(_mentions(texts[k], sentence.offsets, tags, scores))
        return mentions

    def tag(self, sentences: list[Sentence]) -> list[tuple[list[str], list[float] | None]]:
        """Predicted IOB2 tags of each sentence, with each tag's probability (softmax heads)."""
        examples = self.examples(sentences)
        results: list = [None] * len(examples)
        for indexes, rows in self._batches(examples):
            for i, row in zip(indexes, rows, strict=True):
                results[i] = row
        return results

    def examples(self, sentences: list[Sentence]) -> list[Example]:
        """The model's inputs for ``sentences`` (word pieces and windows for an encoder)."""
        return build_examples(
            sentences, self.tags, self.kind, self.config.encoder, self.exported.vocabulary, self.tokenizer
        )

    def batches(self, examples: list[Example]) -> Iterator[tuple[list[int], dict[str, torch.Tensor]]]:
        """Length-sorted batches of ``examples`` on the model's device, with their indexes."""
        for indexes in budget_batches(examples, self.budget):
            yield indexes, to_device(collate([examples[i] for i in indexes]), self.device)

    @torch.inference_mode()
    def _batches(self, examples) -> Iterator[tuple[list[int], list]]:
        softmax = isinstance(self.model, Tagger) and self.model.crf is None
        for indexes, batch in self.batches(examples):
            with autocast(self.device, self.precision):
                if softmax:
                    log_probs = self.model.emissions(batch).float().log_softmax(dim=-1)
                    paths = best_tags(log_probs, batch["mask"], self.tags, self.decode)
                    rows = [
                        ([self.tags[i] for i in path], log_probs[b, range(len(path)), path].exp().tolist())
                        for b, path in enumerate(paths)
                    ]
                else:
                    decoded = self.model.decodings(batch)[self.decode]
                    rows = [([self.tags[i] for i in row], None) for row in decoded]
            yield indexes, rows


def budget_batches(examples: list[Example], budget: int, fill: float = 0.8) -> list[list[int]]:
    """Indexes, longest first, cut into batches of at most ``budget`` padded pieces.

    A fixed number of sentences a batch pads short sentences to long ones
    wherever lengths vary (clinical notes mix headings and long sentences):
    on MACCROBAT's test documents 64-sentence batches held 1.6 times their
    real pieces. Here a batch also ends where a sentence is shorter than
    ``fill`` of its longest, which keeps padding under a quarter.
    """
    order = sorted(range(len(examples)), key=lambda i: -examples[i].cost)
    batches: list[list[int]] = []
    for i in order:
        longest = examples[batches[-1][0]].cost if batches else 0
        fits = batches and (len(batches[-1]) + 1) * longest <= budget
        if fits and examples[i].cost >= fill * longest:
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches


def _mentions(
    text: str, offsets: list[tuple[int, int]], tags: list[str], scores: list[float] | None
) -> list[Mention]:
    """Entities of one sentence's tags as character mentions of ``text``."""
    return [
        Mention(start, end, kind, text[start:end], None if scores is None else sum(scores[a:b]) / (b - a))
        for start, end, kind, a, b in entity_spans(offsets, tags)
    ]
