"""entity-bert: a reproducible study of Entity-BERT (Lu et al. 2023, Front. Neurosci. 17:1259652).

The package holds all the study's logic; notebooks, DVC stages and the
``entity-bert`` command only call into it. It is cut into rooms by concern,
each with its own docstring; imports run one way, from the top down
(``CONTRIBUTING.md``; import-linter checks it):

- ``cli``: the ``entity-bert`` command.
- ``study``: the DVC stages, the RNN ablation, the grid search, benchmarks.
- ``report`` | ``serve`` | ``training``: the tables, figures and verdicts;
  trained models on raw text; the training engine and test scoring.
- ``runs``: a run's configuration (one resolver), data, model and checkpoints.
- ``models`` | ``scoring``: every model and the registry of systems; metrics.
- ``data``: the corpora, from sources to processed IOB2 splits.
- ``core``: errors, files, progress, device.

Using a trained model on raw text: ``entity-bert export`` writes a portable
model directory (:mod:`entity_bert.serve.export`); :func:`load` reads one back as a
:class:`~entity_bert.serve.recogniser.Recogniser`, which finds entities in any
string with exact character offsets; ``entity-bert predict`` does the same
for files (:mod:`entity_bert.serve.predict`).
"""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"


def load(folder: str | Path, device: str = "auto", precision: str = "auto", decode: str = "constrained"):
    """The model directory ``folder`` (from ``entity-bert export``) as a recogniser of raw text.

    ``recognise = entity_bert.load(folder)``; ``recognise(text)`` gives
    :class:`~entity_bert.serve.recogniser.Mention` tuples ``(start, end, type,
    text, score)`` with ``text[start:end] == mention.text``. ``decode``:
    ``constrained`` (valid IOB2 by construction) or ``argmax``.
    """
    from entity_bert.serve.recogniser import Recogniser  # torch and transformers load only when a model does

    return Recogniser.load(folder, device, precision, decode)
