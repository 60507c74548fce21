"""Reader and validator of brat standoff documents (``.txt`` + ``.ann``).

Only text-bound annotations (``T`` lines) are entities::

    T5<TAB>Type 10 20;25 30<TAB>span text

Offsets count characters of the ``.txt`` decoded as UTF-8 with newlines kept
as stored. A discontinuous entity has several ``start end`` fragments
separated by ``;`` and its text is the fragments joined by one space; a
further tab-separated field after the text (one line of MACCROBAT2020 has
one) is tolerated and counted as ``extra_field_after_text``. Events,
relations, attributes, normalisations, equivalences and notes (``E R A M N *
#`` lines) are read past. Anything else is an
:class:`~entity_bert.core.errors.InputError` naming the file and line: a malformed
line, offsets outside the text, span text that differs from the document, an
unknown type, a duplicated id, non-UTF-8 bytes, an empty ``.txt``, a ``.txt``
without its ``.ann`` or the reverse.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from itertools import pairwise
from pathlib import Path

from entity_bert.core.errors import InputError
from entity_bert.core.fileio import read_utf8
from entity_bert.data.corpus import Document, Entity

_T_LINE = re.compile(r"^(T\S*)\t(\S+) (\d+ \d+(?:;\d+ \d+)*)\t(.*)$", re.DOTALL)
IGNORED_PREFIXES = tuple("ERAMN*#")


def _parse_entity(line: str, number: int, text: str, ann: Path) -> tuple[Entity, bool]:
    """The entity of a ``T`` line, and whether the line has a field after the text."""
    match = _T_LINE.match(line)
    if not match:
        raise InputError(ann, number, "malformed entity line (expected 'T<id><TAB>TYPE START END<TAB>text')")
    entity_id, kind, offsets, span_text = match.groups()
    fragments = sorted(tuple(map(int, pair.split())) for pair in offsets.split(";"))
    for start, end in fragments:
        if not 0 <= start < end <= len(text):
            raise InputError(ann, number, f"offsets {start}-{end} outside the text (length {len(text)})")
    for (_, end), (start, _) in pairwise(fragments):
        if start < end:
            raise InputError(ann, number, f"fragments of {entity_id} overlap")
    document_text = " ".join(text[start:end] for start, end in fragments)
    extra_field = span_text != document_text and span_text.split("\t", 1)[0] == document_text
    if span_text != document_text and not extra_field:
        raise InputError(
            ann, number, f"span text {span_text!r} differs from the document's {document_text!r}"
        )
    return Entity(entity_id, kind, fragments, number), extra_field


def read_document(
    txt: str | Path,
    doc_id: str | None = None,
    source: str | None = None,
    entity_types: Collection[str] | None = None,
) -> Document:
    """Read ``txt`` and the ``.ann`` beside it into a validated :class:`Document`."""
    txt = Path(txt)
    ann = txt.with_suffix(".ann")
    if not ann.exists():
        raise InputError(txt, None, f"no {ann.name} beside it")
    text = read_utf8(txt)
    document = Document(doc_id or txt.stem, source or str(txt), text)
    seen: set[str] = set()
    for number, line in enumerate(read_utf8(ann, allow_empty=True).split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip() or line.startswith(IGNORED_PREFIXES):
            continue
        entity, extra_field = _parse_entity(line, number, text, ann)
        document.notes["extra_field_after_text"] += extra_field
        if entity.id in seen:
            raise InputError(ann, number, f"duplicate id {entity.id}")
        if entity_types is not None and entity.type not in entity_types:
            raise InputError(ann, number, f"unknown entity type {entity.type!r}")
        seen.add(entity.id)
        document.entities.append(entity)
    return document


def read_folder(
    folder: str | Path, entity_types: Collection[str] | None = None, source_root: Path | None = None
) -> list[Document]:
    """All documents of a brat folder, in file-name order."""
    folder = Path(folder)
    txts = sorted(folder.glob("*.txt"))
    if not txts:
        raise InputError(folder, None, "no .txt files (not a brat folder?)")
    orphans = sorted({p.stem for p in folder.glob("*.ann")} - {p.stem for p in txts})
    if orphans:
        raise InputError(folder / f"{orphans[0]}.ann", None, f"no {orphans[0]}.txt beside it")
    return [
        read_document(
            txt,
            source=str(txt.relative_to(source_root)) if source_root else str(txt),
            entity_types=entity_types,
        )
        for txt in txts
    ]
