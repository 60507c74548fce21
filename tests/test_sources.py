"""Corpus sources: the sha256 manifest, canonical URLs, fetching from a mirror and verifying.

No test downloads anything: ``fetch`` runs against a fake mirror in ``tmp_path``
and the download path only against a ``urlopen`` that fails.
"""

from __future__ import annotations

import hashlib
import urllib.request
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest

from entity_bert.data import sources
from entity_bert.data.sources import FetchError, ManifestEntry, canonical_url, fetch, manifest, verify

NCBI = "https://raw.githubusercontent.com/cambridgeltl/MTL-Bioinformatics-2016/df0df02fae6dbb87d88ffcf323b9096528f06f84"
FILES = {"train.tsv": b"Familial\tB-Disease\ncancer\tI-Disease\n", "devel.tsv": b"APC\tO\n"}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A mirror holding two ncbi-disease files, and a manifest listing only them."""
    root = tmp_path / "mirror"
    (root / "ncbi-disease").mkdir(parents=True)
    for name, data in FILES.items():
        (root / "ncbi-disease" / name).write_bytes(data)
    entries = [ManifestEntry("ncbi-disease", name, _sha(data)) for name, data in FILES.items()]
    monkeypatch.setattr(sources, "manifest", lambda: entries)
    return root


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_manifest_parses_every_line():
    entries = manifest()
    lines = resources.files("entity_bert").joinpath("resources/SHA256SUMS").read_text("utf-8")
    assert len(entries) == len(lines.splitlines()) == 5220
    assert Counter(e.corpus for e in entries) == {
        "anatem": 3, "bc5cdr": 4, "jnlpba": 4809, "maccrobat2020": 400, "ncbi-disease": 4,
    }  # fmt: skip
    assert all(len(e.sha256) == 64 and int(e.sha256, 16) >= 0 for e in entries)
    assert all(not e.path.startswith(("/", "./")) for e in entries)
    assert len({(e.corpus, e.path) for e in entries}) == len(entries)


def test_manifest_corpora_are_the_registered_ones():
    assert {e.corpus for e in manifest()} == set(sources.corpus_sources())


def test_manifest_entry_of_a_known_file():
    entry = next(e for e in manifest() if e.corpus == "ncbi-disease" and e.path == "train.tsv")
    assert entry.sha256 == "58379baf4614b8d757d93dd7a21b202849ca99f9b9d71b49185523ff5443300c"


def test_canonical_url_of_a_tsv_file():
    assert canonical_url("ncbi-disease", "train.tsv") == f"{NCBI}/data/NCBI-disease-IOB/train.tsv"


def test_canonical_url_follows_a_rename():
    url = canonical_url("ncbi-disease", "LICENSE-CC-BY-4.0.md")
    assert url == f"{NCBI}/data/NCBI-disease-IOB/LICENSE.md"
    assert canonical_url("bc5cdr", "LICENSE-CC-BY-4.0.md").endswith("/data/BC5CDR-IOB/LICENSE.md")


def test_canonical_url_of_maccrobat_sits_under_its_repo_dir():
    url = canonical_url("maccrobat2020", "15939911.txt")
    assert url == (
        "https://raw.githubusercontent.com/Saieiei/NLP/f2b522984cc621d5c7e00fbce02ddeee2a5b8077"
        "/MACCROBAT2020/15939911.txt"
    )


def test_canonical_url_of_jnlpba_has_no_repo_dir():
    url = canonical_url("jnlpba", "standoff/test/20216392.ann")
    assert url == (
        "https://raw.githubusercontent.com/spyysalo/jnlpba/4455122de861c6e448e2e8c7f19ef8f49dbc32b2"
        "/standoff/test/20216392.ann"
    )


def test_fetch_copies_and_verifies_files(mirror, tmp_path):
    dest = tmp_path / "raw"
    assert fetch(["ncbi-disease"], dest, mirror) == {"ncbi-disease": 2}
    assert _files(dest) == {f"ncbi-disease/{name}": data for name, data in FILES.items()}
    verify(["ncbi-disease"], dest)


def test_second_fetch_fetches_nothing(mirror, tmp_path):
    dest = tmp_path / "raw"
    fetch(["ncbi-disease"], dest, mirror)
    assert fetch(["ncbi-disease"], dest, mirror) == {"ncbi-disease": 0}


def test_fetch_replaces_an_altered_file(mirror, tmp_path):
    dest = tmp_path / "raw"
    fetch(["ncbi-disease"], dest, mirror)
    (dest / "ncbi-disease" / "train.tsv").write_bytes(b"tampered\tO\n")
    assert fetch(["ncbi-disease"], dest, mirror) == {"ncbi-disease": 1}
    assert (dest / "ncbi-disease" / "train.tsv").read_bytes() == FILES["train.tsv"]


def test_wrong_hash_raises_and_leaves_nothing(mirror, tmp_path):
    (mirror / "ncbi-disease" / "train.tsv").write_bytes(b"corrupted\tO\n")
    dest = tmp_path / "raw"
    with pytest.raises(FetchError, match=r"train\.tsv") as info:
        fetch(["ncbi-disease"], dest, mirror)
    assert "sha256" in str(info.value)
    assert not (dest / "ncbi-disease" / "train.tsv").exists()
    leftovers = [p.name for p in dest.rglob("*") if p.is_file() and "train" in p.name]
    assert leftovers == []


def test_file_missing_from_the_mirror_raises(mirror, tmp_path):
    (mirror / "ncbi-disease" / "devel.tsv").unlink()
    with pytest.raises(FetchError, match=r"devel\.tsv"):
        fetch(["ncbi-disease"], tmp_path / "raw", mirror)
    assert not (tmp_path / "raw" / "ncbi-disease" / "devel.tsv").exists()


def test_unknown_corpus_raises(mirror, tmp_path):
    with pytest.raises(FetchError, match="no-such-corpus"):
        fetch(["no-such-corpus"], tmp_path / "raw", mirror)
    assert not (tmp_path / "raw").exists()


def test_failed_download_raises_naming_the_url(mirror, tmp_path, monkeypatch):
    def refuse(url, *args, **kwargs):
        raise OSError("network disabled in tests")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    with pytest.raises(FetchError) as info:
        fetch(["ncbi-disease"], tmp_path / "raw", mirror=None)
    assert str(info.value).startswith(f"{NCBI}/data/NCBI-disease-IOB/train.tsv: ")
    assert not (tmp_path / "raw" / "ncbi-disease").exists()


def test_verify_raises_for_a_missing_file(mirror, tmp_path):
    dest = tmp_path / "raw"
    fetch(["ncbi-disease"], dest, mirror)
    (dest / "ncbi-disease" / "devel.tsv").unlink()
    with pytest.raises(FetchError, match=r"devel\.tsv"):
        verify(["ncbi-disease"], dest)


def test_verify_raises_for_an_altered_file(mirror, tmp_path):
    dest = tmp_path / "raw"
    fetch(["ncbi-disease"], dest, mirror)
    (dest / "ncbi-disease" / "train.tsv").write_bytes(FILES["train.tsv"] + b"\n")
    with pytest.raises(FetchError, match=r"train\.tsv"):
        verify(["ncbi-disease"], dest)


def test_verify_only_checks_the_named_corpora(mirror, tmp_path):
    verify(["anatem"], tmp_path / "nothing-here")


def test_registry_splits_and_renames_name_manifest_files():
    paths = {(e.corpus, e.path) for e in manifest()}
    for corpus, source in sources.corpus_sources().items():
        for split_path in source["splits"].values():
            assert (corpus, split_path) in paths or any(
                c == corpus and p.startswith(split_path + "/") for c, p in paths
            ), (corpus, split_path)
        for original in source.get("renamed", {}):
            assert (corpus, original) in paths


def test_default_mirror_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(sources.MIRROR_ENV, str(tmp_path))
    assert sources.default_mirror() == tmp_path


def test_default_mirror_is_none_without_env_or_shared_folder(monkeypatch, tmp_path):
    monkeypatch.delenv(sources.MIRROR_ENV, raising=False)
    work = tmp_path / "project" / "main"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)  # ../shared/corpora does not exist from here
    assert sources.default_mirror() is None
