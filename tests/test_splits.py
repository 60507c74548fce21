"""Seeded and official train/dev/test splits under the two protocols."""

from __future__ import annotations

from collections import Counter

import pytest

from entity_bert.data.splits import assign_splits, seeded_split

UNITS = [f"doc{i:03d}" for i in range(100)]
FRACTIONS = {"train": 0.7, "dev": 0.1, "test": 0.2}


def test_seeded_split_assigns_every_unit_once():
    assignment = seeded_split(UNITS, FRACTIONS, seed=13)
    assert sorted(assignment) == sorted(UNITS)
    assert set(assignment.values()) == {"train", "dev", "test"}


def test_seeded_split_sizes_follow_the_fractions():
    assert Counter(seeded_split(UNITS, FRACTIONS, seed=13).values()) == {"train": 70, "dev": 10, "test": 20}


def test_seeded_split_fractions_need_not_sum_to_one():
    sizes = Counter(seeded_split(UNITS, {"train": 7, "dev": 1, "test": 2}, seed=1).values())
    assert sizes == {"train": 70, "dev": 10, "test": 20}


def test_seeded_split_is_deterministic_for_a_seed():
    assert seeded_split(UNITS, FRACTIONS, seed=13) == seeded_split(UNITS, FRACTIONS, seed=13)


def test_seeded_split_does_not_depend_on_input_order():
    assert seeded_split(UNITS[::-1], FRACTIONS, seed=13) == seeded_split(UNITS, FRACTIONS, seed=13)


def test_seeded_split_differs_for_another_seed():
    assert seeded_split(UNITS, FRACTIONS, seed=13) != seeded_split(UNITS, FRACTIONS, seed=14)


def test_seeded_split_shuffles():
    assignment = seeded_split(UNITS, FRACTIONS, seed=13)
    assert [assignment[u] for u in UNITS[:70]] != ["train"] * 70


def test_seeded_split_rejects_duplicate_units():
    with pytest.raises(ValueError, match="unique"):
        seeded_split(["a", "b", "a"], FRACTIONS, seed=0)


def _assign(official, protocol="official", seed=13):
    return assign_splits(official, protocol, FRACTIONS, dev_fraction_of_train=0.1, seed=seed)


def test_official_splits_with_all_three_are_kept_as_they_are():
    official = {u: ("train", "dev", "test")[i % 3] for i, u in enumerate(UNITS)}
    assert _assign(official) == official


def test_official_train_and_test_get_dev_carved_from_train_only():
    official = {u: "train" if i < 80 else "test" for i, u in enumerate(UNITS)}
    assignment = _assign(official)
    assert sorted(assignment) == sorted(UNITS)
    assert all(assignment[u] == "test" for u in UNITS if official[u] == "test")
    from_train = Counter(assignment[u] for u in UNITS if official[u] == "train")
    assert from_train == {"train": 72, "dev": 8}


def test_carved_dev_is_seeded():
    official = {u: "train" if i < 80 else "test" for i, u in enumerate(UNITS)}
    assert _assign(official, seed=1) == _assign(official, seed=1)
    assert _assign(official, seed=1) != _assign(official, seed=2)


def test_no_official_splits_are_split_by_fractions():
    assignment = _assign(dict.fromkeys(UNITS))
    assert assignment == seeded_split(UNITS, FRACTIONS, seed=13)
    assert Counter(assignment.values()) == {"train": 70, "dev": 10, "test": 20}


def test_paper_protocol_pools_every_unit():
    official = {u: "train" if i < 50 else "test" for i, u in enumerate(UNITS)}
    assignment = _assign(official, protocol="paper")
    assert assignment == seeded_split(UNITS, FRACTIONS, seed=13)
    assert Counter(assignment.values()) == {"train": 70, "dev": 10, "test": 20}
    moved = [u for u in UNITS if official[u] == "test" and assignment[u] != "test"]
    assert moved


def test_unknown_protocol_raises():
    with pytest.raises(ValueError, match="protocol"):
        _assign(dict.fromkeys(UNITS), protocol="random")


def test_mixed_official_and_none_raises():
    official = {u: None if i % 2 else "train" for i, u in enumerate(UNITS)}
    with pytest.raises(ValueError, match="every unit or none"):
        _assign(official)
