"""entity-bert: a reproducible study of Entity-BERT (Lu et al. 2023, Front. Neurosci. 17:1259652).

The package holds all the study's logic; notebooks, DVC stages and the
``entity-bert`` command only call into it. Data path, in reading order:

- ``sources``: where the five corpora come from; ``entity-bert data fetch``.
- ``conll`` and ``brat``: readers (and validators) of the two source formats.
- ``segmentation``: sentence splitting and tokenisation of standoff text.
- ``spans``: from annotated character spans to IOB2 tags, with named policies.
- ``splits``: official or seeded document-level train/dev/test splits.
- ``prepare``: a corpus in, processed splits and statistics out.
- ``tables``: the paper's tables, measured beside claimed.

Using a trained model on raw text: ``entity-bert export`` writes a portable
model directory (:mod:`entity_bert.serve.export`); :func:`load` reads one back as a
:class:`~entity_bert.serve.recogniser.Recogniser`, which finds entities in any
string with exact character offsets; ``entity-bert predict`` does the same
for files (:mod:`entity_bert.serve.predict`).
"""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"


def load(folder: str | Path, device: str = "auto", precision: str = "fp32"):
    """The model directory ``folder`` (from ``entity-bert export``) as a recogniser of raw text.

    ``recognise = entity_bert.load(folder)``; ``recognise(text)`` gives
    :class:`~entity_bert.serve.recogniser.Mention` tuples ``(start, end, type,
    text, score)`` with ``text[start:end] == mention.text``.
    """
    from entity_bert.serve.recogniser import Recogniser  # torch and transformers load only when a model does

    return Recogniser.load(folder, device, precision)
