"""Sentence splitting and tokenisation of raw text, with exact offsets.

We use syntok (segtok v2, by the author of segtok, which was built for
biomedical literature): a maintained, rule-based, pure-Python segmenter whose
every token carries its character offset in the input, so offsets never drift,
and whose rules know abbreviations ("Dr.", "i.v."), decimals ("37.5") and
enumerations common in clinical and scientific prose. It is deterministic and
has no model to download. Two settings matter:

- hyphens and underscores are emitted as tokens of their own
  (``emit_hyphen_or_underscore_sep=True``); syntok's default would drop them
  and "year-old" would lose a character;
- "n't" is kept as written (``replace_not_contraction=False``), so that every
  token is the exact slice ``text[start:end]``.

A line break always ends a sentence: titles and list items carry no final
full stop, and in MACCROBAT2020 and JNLPBA each line is a paragraph.
"""

from __future__ import annotations

from syntok import segmenter
from syntok.tokenizer import Tokenizer

_TOKENIZER = Tokenizer(emit_hyphen_or_underscore_sep=True, replace_not_contraction=False)


def split_sentences(text: str) -> list[list[tuple[int, int]]]:
    """Sentences of ``text`` as lists of token ``(start, end)`` offsets."""
    sentences = []
    offset = 0
    for line in text.split("\n"):
        for sentence in segmenter.split(_TOKENIZER.tokenize(line, offset)):
            spans = [(t.offset, t.offset + len(t.value)) for t in sentence if t.value]
            if spans:
                sentences.append(spans)
        offset += len(line) + 1
    return sentences
