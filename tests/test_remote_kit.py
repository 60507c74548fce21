"""The GPU machine's kit (scripts/remote_kit.py) comes back whole from its parts, or is refused by name."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "remote_kit.py"


@pytest.fixture
def kit(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("remote_kit", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    package = tmp_path / "env" / "fake_encoder"
    (package / "model").mkdir(parents=True)
    (package / "__init__.py").write_text("", "utf-8")
    (package / "model" / "weights.bin").write_bytes(random.Random(0).randbytes(300_000))
    monkeypatch.setattr(module, "PURE", ("fake_encoder",))
    monkeypatch.setattr(module, "COMPILED", ())  # no download in the tests
    monkeypatch.setattr(module, "package_folder", lambda name: tmp_path / "env" / name)
    here = tmp_path / "here"
    (here / "data" / "processed" / "corpus").mkdir(parents=True)
    (here / "data" / "processed" / "corpus" / "train.jsonl").write_text('{"tokens": ["a"]}\n', "utf-8")
    return module, here


def test_the_kit_is_split_into_folders_and_unpacks_to_the_same_files(kit, tmp_path):
    module, here = kit
    parts = module.pack(here / ".kit", part_mib=0.1, python_version="3.12", root=here)
    assert len(parts) > 1 and all(part.stat().st_size <= 0.1 * 2**20 for part in parts)
    assert len({part.parent for part in parts}) == len(parts)  # a folder each: sent one at a time
    there = tmp_path / "there"
    (there / ".kit").mkdir(parents=True)
    for folder in {part.parent for part in parts}:
        (there / ".kit" / folder.name).mkdir()
        for file in folder.iterdir():
            (there / ".kit" / folder.name / file.name).write_bytes(file.read_bytes())
    site = module.unpack(there / ".kit", root=there)
    assert (there / "data/processed/corpus/train.jsonl").read_text("utf-8") == '{"tokens": ["a"]}\n'
    weights = (site / "fake_encoder" / "model" / "weights.bin").read_bytes()
    assert weights == (tmp_path / "env/fake_encoder/model/weights.bin").read_bytes()


@pytest.mark.parametrize("damage", ["missing", "cut short"])
def test_a_part_missing_or_cut_short_is_named_and_nothing_is_extracted(kit, damage):
    module, here = kit
    parts = module.pack(here / ".kit", part_mib=0.1, python_version="3.12", root=here)
    victim = parts[-1]
    if damage == "missing":
        victim.unlink()
    else:
        victim.write_bytes(victim.read_bytes()[:-1])
    target = here / "elsewhere"
    with pytest.raises(SystemExit, match=victim.name):
        module.unpack(here / ".kit", root=target)
    assert not target.exists() and not (here / ".kit" / "site").exists()
