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
"""

__version__ = "0.1.0"
