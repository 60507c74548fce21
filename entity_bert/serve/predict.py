"""``entity-bert predict --model DIR``: entities in raw text files, as JSON Lines, brat or HTML.

Inputs are ``.txt`` files, folders (their ``.txt`` files, recursively, in
sorted order) or standard input (no path, or ``-``); text is UTF-8 with any
newline convention, and offsets count characters of the text exactly as
stored. Each document is read and checked on its own: an empty, binary
(NUL bytes) or non-UTF-8 one gets one line ``FILE:LINE: what is wrong`` on
standard error and the others are still processed; the exit status is then 1.

Outputs (``--format``):

- ``jsonl`` (default): one line per document, ``{"document", "entities":
  [{"start", "end", "type", "text", "score"}]}``, to ``--out FILE`` or
  standard output;
- ``brat``: standoff ``.ann`` beside each ``.txt`` (or under ``--out DIR``,
  same relative names), ``T`` lines plus an ``AnnotatorNotes`` line with the
  score; :mod:`entity_bert.data.brat` reads them back;
- ``html``: a self-contained page per document, entities highlighted by type,
  with a legend and each entity's type and score on hover.

Every file is written to a temporary name and renamed, so an interrupted run
leaves no half-written output.
"""

from __future__ import annotations

import html
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from entity_bert.core.errors import InputError
from entity_bert.core.fileio import atomic_write_text, decode_utf8
from entity_bert.core.progress import progress
from entity_bert.serve.recogniser import Mention, Recogniser

FORMATS = ("jsonl", "brat", "html")
STDIN = "-"
DOCUMENTS_PER_CALL = 16  # documents whose sentences share batches


@dataclass
class Document:
    """A document to read: where it came from, where its outputs go, its text."""

    name: str  # the path as given, or "<stdin>"
    path: Path | None  # None for standard input
    relative: Path | None  # its path under the folder it was found in (for --out DIR)
    text: str | None = None


def documents(inputs: list[str]) -> tuple[list[Document], list[InputError]]:
    """The documents of ``inputs`` (files, folders of ``.txt`` files, ``-``); inputs that name none."""
    found, problems = [], []
    for item in inputs or [STDIN]:
        path = Path(item)
        if item == STDIN:
            found.append(Document("<stdin>", None, None))
        elif path.is_dir():
            texts = sorted(path.rglob("*.txt"))
            found += [Document(str(p), p, p.relative_to(path)) for p in texts]
            if not texts:
                problems.append(InputError(path, None, "no .txt files in this folder"))
        elif path.is_file():
            found.append(Document(item, path, Path(path.name)))
        else:
            problems.append(InputError(path, None, "no such file or folder"))
    return found, problems


def read_text(document: Document) -> str:
    """The document's text; :class:`InputError` for empty, binary or non-UTF-8 input."""
    where = document.name
    try:
        data = sys.stdin.buffer.read() if document.path is None else document.path.read_bytes()
    except OSError as error:
        raise InputError(where, None, f"cannot read ({error.strerror})") from None
    if b"\x00" in data:
        offset = data.index(b"\x00")
        raise InputError(where, data[:offset].count(b"\n") + 1, f"binary file (NUL byte at offset {offset})")
    text = decode_utf8(data, where, allow_empty=True)
    if not text.strip():
        raise InputError(where, 1, "empty document (no text to read)")
    return text


def mention_record(mention: Mention) -> dict:
    return {
        "start": mention.start,
        "end": mention.end,
        "type": mention.type,
        "text": mention.text,
        "score": None if mention.score is None else round(mention.score, 4),
    }


def brat_ann(mentions: list[Mention]) -> str:
    """The standoff ``.ann`` text of ``mentions`` (a mention never spans a line break)."""
    lines = []
    for number, m in enumerate(mentions, start=1):
        lines.append(f"T{number}\t{m.type} {m.start} {m.end}\t{m.text}")
        if m.score is not None:
            lines.append(f"#{number}\tAnnotatorNotes T{number}\tscore {m.score:.4f}")
    return "".join(line + "\n" for line in lines)


def type_colours(types: list[str]) -> dict[str, str]:
    """One light colour per entity type (a qualitative palette, repeated beyond 12 types)."""
    from matplotlib import colormaps  # only the HTML format needs matplotlib
    from matplotlib.colors import to_hex

    palette = colormaps["Set3"].colors
    return {kind: to_hex(palette[i % len(palette)]) for i, kind in enumerate(sorted(types))}


def html_page(title: str, text: str, mentions: list[Mention], types: list[str]) -> str:
    """A self-contained page: the text, entities highlighted by type, a legend."""
    colours = type_colours(types)
    style = "".join(f".t{i}{{background:{colours[kind]}}}" for i, kind in enumerate(types))
    classes = {kind: f"t{i}" for i, kind in enumerate(types)}
    parts, position = [], 0
    for m in sorted(mentions):
        parts.append(html.escape(text[position : m.start]))
        hover = m.type if m.score is None else f"{m.type} {m.score:.2f}"
        parts.append(
            f'<mark class="{classes[m.type]}" title="{html.escape(hover)}">{html.escape(m.text)}'
            f"<sub>{html.escape(m.type)}</sub></mark>"
        )
        position = m.end
    parts.append(html.escape(text[position:]))
    legend = " ".join(f'<mark class="{classes[k]}">{html.escape(k)}</mark>' for k in types)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "pre{white-space:pre-wrap;font-family:inherit;line-height:1.9}"
        "mark{padding:0 2px;border-radius:3px}sub{font-size:60%;margin-left:2px}"
        f"{style}</style></head><body>\n<h1>{html.escape(title)}</h1>\n"
        f"<p>{len(mentions)} entities. Types: {legend}</p>\n<pre>{''.join(parts)}</pre>\n</body></html>\n"
    )


def _target(document: Document, out: Path | None, suffix: str) -> Path:
    if out is None:
        return document.path.with_suffix(suffix)
    return (out / document.relative).with_suffix(suffix)


def run_predict(
    recogniser: Recogniser, inputs: list[str], output_format: str = "jsonl", out: str | None = None
) -> tuple[int, int]:
    """Predict every document of ``inputs``; return (documents done, documents or inputs that failed)."""
    if output_format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, not {output_format!r}")
    if output_format == "jsonl" and out and Path(out).is_dir():
        raise InputError(out, None, "is a folder: --format jsonl writes one file (give its path)")
    found, problems = documents(inputs)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    out_path = Path(out) if out else None
    lines: list[str] = []
    done, failed = 0, len(problems)

    def flush(pending: list[Document]) -> None:
        for document, mentions in zip(pending, recogniser([d.text for d in pending]), strict=True):
            line = _write(document, mentions, recogniser.types, output_format, out_path)
            if output_format == "jsonl" and out_path is None:
                sys.stdout.write(line)
            elif line:
                lines.append(line)
            document.text = None  # done with it
        pending.clear()

    pending: list[Document] = []
    for document in progress(found, desc="documents", unit="doc"):
        try:
            document.text = read_text(document)
        except InputError as error:
            print(f"error: {error}", file=sys.stderr)
            failed += 1
            continue
        pending.append(document)
        done += 1
        if len(pending) == DOCUMENTS_PER_CALL:
            flush(pending)
    flush(pending)
    if output_format == "jsonl" and out_path is not None:
        atomic_write_text(out_path, "".join(lines))
    return done, failed


def _write(
    document: Document, mentions: list[Mention], types: list[str], output_format: str, out: Path | None
) -> str:
    """Write one document's brat or HTML output; return its JSON line (for ``jsonl``)."""
    if output_format == "jsonl":
        record = {"document": document.name, "entities": [mention_record(m) for m in mentions]}
        return json.dumps(record, ensure_ascii=False) + "\n"
    if output_format == "brat":
        content, suffix = brat_ann(mentions), ".ann"
    else:
        content, suffix = html_page(document.name, document.text, mentions, types), ".html"
    if document.path is None:
        sys.stdout.write(content)
    else:
        atomic_write_text(_target(document, out, suffix), content)
    return ""
