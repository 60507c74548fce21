"""File helpers: strict UTF-8 reading, sha256, and all-or-nothing writes of files and directories."""

from __future__ import annotations

import hashlib

import pytest

from entity_bert.core.errors import InputError
from entity_bert.core.fileio import (
    atomic_directory,
    atomic_write_bytes,
    atomic_write_text,
    read_utf8,
    sha256_file,
)


def test_read_utf8_keeps_newlines_as_stored(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes("naïve\r\nβ\n".encode())
    assert read_utf8(path) == "naïve\r\nβ\n"


@pytest.mark.parametrize(
    ("data", "line"),
    [(b"\xff", 1), (b"ok\n\xe9t\xe9\n", 2), (b"one\ntwo\nthr\xc3ee\nfour\xff\n", 3), (b"a\r\nb\r\n\x80", 3)],
)
def test_read_utf8_names_the_line_of_the_first_bad_byte(tmp_path, data, line):
    path = tmp_path / "bad.txt"
    path.write_bytes(data)
    with pytest.raises(InputError) as info:
        read_utf8(path)
    assert info.value.line == line
    assert str(info.value).startswith(f"{path}:{line}: not UTF-8")


def test_read_utf8_rejects_an_empty_file(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with pytest.raises(InputError) as info:
        read_utf8(path)
    assert str(info.value) == f"{path}:1: empty file"


def test_read_utf8_allows_an_empty_file_when_asked(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    assert read_utf8(path, allow_empty=True) == ""


def test_sha256_file(tmp_path):
    path = tmp_path / "data.bin"
    data = bytes(range(256)) * 5000
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()


def test_atomic_write_text_writes_utf8_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "sub" / "out.txt"
    atomic_write_text(path, "β-blocker\n")
    assert path.read_bytes() == "β-blocker\n".encode()
    assert [p.name for p in path.parent.iterdir()] == ["out.txt"]


def test_atomic_writes_get_the_permissions_of_an_ordinary_write(tmp_path):
    ordinary = tmp_path / "ordinary.txt"
    ordinary.write_text("x")
    atomic_write_text(tmp_path / "atomic.txt", "x")
    assert (tmp_path / "atomic.txt").stat().st_mode == ordinary.stat().st_mode
    (tmp_path / "plain").mkdir()
    with atomic_directory(tmp_path / "swapped"):
        pass
    assert (tmp_path / "swapped").stat().st_mode == (tmp_path / "plain").stat().st_mode


def test_atomic_write_text_replaces_an_existing_file(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old", "utf-8")
    atomic_write_text(path, "new")
    assert path.read_text("utf-8") == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_atomic_write_bytes_failure_leaves_old_file_and_no_temp(tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    with pytest.raises(TypeError):
        atomic_write_bytes(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_atomic_directory_creates_the_target_on_success(tmp_path):
    target = tmp_path / "processed"
    with atomic_directory(target) as tmp:
        assert tmp != target
        assert not target.exists()
        (tmp / "train.jsonl").write_text("{}\n", "utf-8")
    assert [p.name for p in target.iterdir()] == ["train.jsonl"]
    assert [p.name for p in tmp_path.iterdir()] == ["processed"]


def test_atomic_directory_swaps_out_the_old_directory(tmp_path):
    target = tmp_path / "processed"
    target.mkdir()
    (target / "stale.jsonl").write_text("old\n", "utf-8")
    with atomic_directory(target) as tmp:
        (tmp / "fresh.jsonl").write_text("new\n", "utf-8")
        assert (target / "stale.jsonl").exists()  # untouched while building
    assert [p.name for p in target.iterdir()] == ["fresh.jsonl"]
    assert [p.name for p in tmp_path.iterdir()] == ["processed"]


def test_atomic_directory_on_exception_leaves_target_untouched_and_no_temp(tmp_path):
    target = tmp_path / "processed"
    target.mkdir()
    (target / "stale.jsonl").write_text("old\n", "utf-8")
    with pytest.raises(RuntimeError, match="boom"), atomic_directory(target) as tmp:
        (tmp / "half.jsonl").write_text("partial\n", "utf-8")
        raise RuntimeError("boom")
    assert [p.name for p in target.iterdir()] == ["stale.jsonl"]
    assert (target / "stale.jsonl").read_text("utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["processed"]


def test_atomic_directory_on_exception_creates_no_target(tmp_path):
    target = tmp_path / "processed"
    with pytest.raises(KeyboardInterrupt), atomic_directory(target):
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
