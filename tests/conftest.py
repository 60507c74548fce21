"""Shared fixtures: a toy corpus pair (one brat, one TSV) written into tmp_path.

``toy_params`` registers the two toy corpora in place of the real registry
(``entity_bert.data.prepare.corpus_sources``), skips the manifest check, and
returns :class:`~entity_bert.data.prepare.DataParams` pointing at them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from entity_bert.data import prepare

from .synthetic import write_synthetic_corpus

TOY_SOURCES = {
    "toy-brat": {
        "title": "toy standoff corpus",
        "format": "brat",
        "splits": {},
        "stands_in_for": "nothing",
        "entity_types": ["Disease", "Drug", "Age"],
    },
    "toy-tsv": {
        "title": "toy TSV corpus",
        "format": "tsv",
        "splits": {"train": "train.tsv", "dev": "devel.tsv", "test": "test.tsv"},
        "stands_in_for": "nothing",
        "entity_types": ["Disease"],
    },
}

BRAT_TEXT = "A 48-year-old man had lung cancer.\nHe took aspirin daily.\n"
BRAT_ANN = (
    "T1\tAge 2 13\t48-year-old\n"
    "T2\tDisease 22 33\tlung cancer\n"
    "T3\tDisease 27 33\tcancer\n"  # nested in T2
    "T4\tDrug 43 50\taspirin\n"
    "E1\tDisease:T2\n"
)
TSV = "Familial\tB-Disease\nbreast\tI-Disease\ncancer\tI-Disease\nis\tO\nrare\tO\n\nAPC\tO\nmutations\tO\n"


def write_toy_raw(raw: Path, documents: int = 20) -> None:
    """Write ``documents`` brat documents and three TSV files under ``raw``."""
    brat_dir = raw / "toy-brat"
    brat_dir.mkdir(parents=True)
    for i in range(documents):
        (brat_dir / f"doc{i:03d}.txt").write_text(BRAT_TEXT, "utf-8")
        (brat_dir / f"doc{i:03d}.ann").write_text(BRAT_ANN, "utf-8")
    tsv_dir = raw / "toy-tsv"
    tsv_dir.mkdir()
    for name in ("train.tsv", "devel.tsv", "test.tsv"):
        (tsv_dir / name).write_text(TSV, "utf-8")


@pytest.fixture
def toy_params(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> prepare.DataParams:
    write_toy_raw(tmp_path / "raw")
    mapping = tmp_path / "toy_map.yaml"
    mapping.write_text("Illness: [Disease]\n", "utf-8")
    monkeypatch.setattr(prepare, "corpus_sources", lambda: TOY_SOURCES)
    monkeypatch.setattr(prepare, "verify", lambda corpora, root: None)
    return prepare.DataParams(
        corpora=["toy-brat", "toy-tsv"],
        raw_dir=str(tmp_path / "raw"),
        processed_dir=str(tmp_path / "processed"),
        label_sets={"toy-brat": {"illness": str(mapping), "all": None}},
    )


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic corpus of :mod:`tests.synthetic`, written once (its root; splits under processed/)."""
    root = tmp_path_factory.mktemp("synth")
    write_synthetic_corpus(root / "processed")
    return root
