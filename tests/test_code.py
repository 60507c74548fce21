"""What each system's training cells depend on (study/code.py): shared code plus its own files."""

from __future__ import annotations

import hashlib

from entity_bert.models.registry import MODEL_NAMES, SYSTEMS
from entity_bert.study.code import ROOT, own_files, shared_files, system_files, write_code_lists


def test_every_own_file_exists_and_is_no_shared_file():
    assert all((ROOT / path).is_file() for path in own_files())
    assert own_files().isdisjoint(shared_files())
    assert "entity_bert/training/engine.py" in shared_files()


def test_a_system_depends_on_its_own_files_and_on_no_other_model():
    template, bert = set(system_files("template")), set(system_files("bert"))
    assert {"entity_bert/models/template.py", "entity_bert/models/span_decoding.py"} <= template
    assert "entity_bert/models/mrc.py" not in template and "entity_bert/models/template.py" not in bert
    assert "params/mrc_queries.yaml" in system_files("mrc")  # its queries decide its numbers too
    assert set(shared_files()) <= bert


def test_the_lists_hold_each_file_sha256(tmp_path):
    written = write_code_lists(tmp_path)
    assert sorted(p.stem for p in written) == sorted(MODEL_NAMES)
    lines = (tmp_path / "mrc.txt").read_text("utf-8").splitlines()[1:]
    sums = dict(reversed(line.split("  ", 1)) for line in lines)
    assert sorted(sums) == system_files("mrc") and set(SYSTEMS["mrc"].code) <= set(sums)
    path = "entity_bert/models/mrc.py"
    assert sums[path] == hashlib.sha256((ROOT / path).read_bytes()).hexdigest()
