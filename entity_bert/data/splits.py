"""Train/dev/test splits: official where a corpus has them, seeded elsewhere.

The unit of a split is the document, so that no document is in two splits
(the TSV corpora record no documents: there the unit is the sentence). A
seeded split sorts the unit ids, shuffles them with ``random.Random(seed)``
and cuts them by the given fractions, so the same ids and seed always give
the same split.

Protocols:

- ``official``: the corpus's own splits; a corpus without any is split by
  ``fractions``; a corpus without dev gets one carved from train by
  ``dev_fraction_of_train``.
- ``paper``: all units pooled and split by ``fractions`` (the paper's
  70/10/20, section 4.2).
"""

from __future__ import annotations

import random
from collections.abc import Mapping

SPLITS = ("train", "dev", "test")
PROTOCOLS = ("official", "paper")


def seeded_split(units: list[str], fractions: Mapping[str, float], seed: int) -> dict[str, str]:
    """Assign each unit to a split named in ``fractions`` (in their order)."""
    if len(set(units)) != len(units):
        raise ValueError("unit ids must be unique")
    total = sum(fractions.values())
    order = sorted(units)
    random.Random(seed).shuffle(order)
    assignment: dict[str, str] = {}
    begin, cumulative = 0, 0.0
    names = list(fractions)
    for i, name in enumerate(names):
        cumulative += fractions[name]
        end = len(order) if i == len(names) - 1 else round(len(order) * cumulative / total)
        assignment.update(dict.fromkeys(order[begin:end], name))
        begin = end
    return assignment


def assign_splits(
    official: Mapping[str, str | None],
    protocol: str,
    fractions: Mapping[str, float],
    dev_fraction_of_train: float,
    seed: int,
) -> dict[str, str]:
    """Final split of every unit, from its official split (``None`` if unknown)."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"split protocol must be one of {PROTOCOLS}, not {protocol!r}")
    units = list(official)
    if protocol == "paper" or all(split is None for split in official.values()):
        return seeded_split(units, fractions, seed)
    if any(split is None for split in official.values()):
        raise ValueError("either every unit or none has an official split")
    assignment = dict(official)
    if "dev" not in set(official.values()):
        train = [unit for unit in units if official[unit] == "train"]
        keep = 1.0 - dev_fraction_of_train
        assignment.update(seeded_split(train, {"train": keep, "dev": dev_fraction_of_train}, seed))
    return assignment
