"""Where the corpora come from, and ``entity-bert data fetch``.

``resources/corpora.yaml`` names each corpus's repository, pinned commit,
format and splits; ``resources/SHA256SUMS`` holds the sha256 of every file
(the same manifest as the offline mirror's). Fetching copies each file from a
mirror directory, or downloads it from its canonical URL at the pinned commit
when there is no mirror, and checks its hash before renaming it into place
under ``data/raw/<corpus>/``. A missing file or a wrong hash is an error;
nothing unverified is ever left in ``data/raw``.
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from entity_bert.core.fileio import atomic_write_bytes, sha256_file
from entity_bert.core.progress import progress

MIRROR_ENV = "ENTITY_BERT_MIRROR"
DEFAULT_MIRROR = Path("../shared/corpora")
RAW_URL = "https://raw.githubusercontent.com/{repo}/{commit}/{path}"


class FetchError(Exception):
    """A corpus file that could not be had or did not match its hash."""


@dataclass(frozen=True)
class ManifestEntry:
    corpus: str
    path: str  # relative to the corpus folder
    sha256: str


def corpus_sources() -> dict[str, dict]:
    """The corpus registry, ``resources/corpora.yaml``, in its order."""
    text = resources.files("entity_bert").joinpath("resources/corpora.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def manifest() -> list[ManifestEntry]:
    """Every corpus file with its sha256, from ``resources/SHA256SUMS``."""
    text = resources.files("entity_bert").joinpath("resources/SHA256SUMS").read_text("utf-8")
    entries = []
    for line in text.splitlines():
        digest, name = line.split(maxsplit=1)
        corpus, path = name.removeprefix("./").split("/", 1)
        entries.append(ManifestEntry(corpus, path, digest))
    return entries


def canonical_url(corpus: str, path: str) -> str:
    """The public URL of one corpus file at its pinned commit."""
    source = corpus_sources()[corpus]
    repo_path = source.get("renamed", {}).get(path, path)
    if source["repo_dir"]:
        repo_path = f"{source['repo_dir']}/{repo_path}"
    return RAW_URL.format(repo=source["repo"], commit=source["commit"], path=repo_path)


def default_mirror() -> Path | None:
    """The mirror named by ``$ENTITY_BERT_MIRROR``, else ``../shared/corpora`` if present."""
    if os.environ.get(MIRROR_ENV):
        return Path(os.environ[MIRROR_ENV])
    return DEFAULT_MIRROR if DEFAULT_MIRROR.is_dir() else None


def _obtain(entry: ManifestEntry, mirror: Path | None) -> bytes:
    if mirror is not None:
        source = mirror / entry.corpus / entry.path
        if not source.is_file():
            raise FetchError(f"{source}: missing from the mirror")
        return source.read_bytes()
    url = canonical_url(entry.corpus, entry.path)
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.read()
    except OSError as error:
        raise FetchError(f"{url}: download failed ({error})") from None


def fetch(corpora: list[str], dest: Path, mirror: Path | None) -> dict[str, int]:
    """Materialise ``corpora`` under ``dest``; return the files fetched per corpus.

    Files already present with the right hash are kept as they are.
    """
    known = corpus_sources()
    unknown = sorted(set(corpora) - set(known))
    if unknown:
        raise FetchError(f"unknown corpus {unknown[0]!r} (known: {', '.join(known)})")
    entries = [e for e in manifest() if e.corpus in corpora]
    fetched = dict.fromkeys(corpora, 0)
    for entry in progress(entries, desc="fetch", unit="file"):
        target = dest / entry.corpus / entry.path
        if target.is_file() and sha256_file(target) == entry.sha256:
            continue
        data = _obtain(entry, mirror)
        digest = hashlib.sha256(data).hexdigest()
        if digest != entry.sha256:
            origin = mirror / entry.corpus / entry.path if mirror else canonical_url(entry.corpus, entry.path)
            raise FetchError(f"{origin}: sha256 {digest} does not match the manifest's {entry.sha256}")
        atomic_write_bytes(target, data)
        fetched[entry.corpus] += 1
    return fetched


def verify(corpora: list[str], root: Path) -> None:
    """Check that every manifest file of ``corpora`` is under ``root`` with its hash."""
    for entry in manifest():
        if entry.corpus not in corpora:
            continue
        path = root / entry.corpus / entry.path
        if not path.is_file():
            raise FetchError(f"{path}: missing (run 'entity-bert data fetch')")
        if sha256_file(path) != entry.sha256:
            raise FetchError(f"{path}: sha256 does not match the manifest (run 'entity-bert data fetch')")
