"""Command-line options made from a dataclass's fields, with each field's comment as its help.

``entity-bert train`` offers every scalar setting of a run
(:class:`~entity_bert.runs.config.RunConfig` and
:class:`~entity_bert.models.config.ModelConfig`) as ``--field-name``; a new
field, with its trailing ``# comment``, is a new option with no other edit.
Options left out stay ``None`` and so do not override the parameters file.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import re

SCALARS = {"int": int, "float": float, "str": str}


def _comments(cls: type) -> dict[str, str]:
    """Each field's trailing comment in the class's source."""
    source = inspect.getsource(cls)
    return dict(re.findall(r"^\s+(\w+):[^#\n]*#\s*(.+)$", source, flags=re.M))


def scalar_fields(cls: type, skip: tuple[str, ...] = ()) -> list[tuple[str, type, str]]:
    """``(name, type, help)`` of the fields of ``cls`` that take one int, float or string."""
    comments = _comments(cls)
    found = []
    for spec in dataclasses.fields(cls):
        kind = SCALARS.get(str(spec.type).removesuffix(" | None"))
        if spec.name in skip or kind is None:
            continue
        default = spec.default if spec.default is not dataclasses.MISSING else None
        text = comments.get(spec.name, "")
        if default is not None:
            text = f"{text} (default: {default})" if text else f"default: {default}"
        found.append((spec.name, kind, text))
    return found


def add_field_options(parser: argparse.ArgumentParser, cls: type, skip: tuple[str, ...] = ()) -> None:
    """One ``--field-name`` option per scalar field of ``cls``."""
    for name, kind, text in scalar_fields(cls, skip):
        parser.add_argument(f"--{name.replace('_', '-')}", type=kind, help=text.replace("%", "%%"))


def given_fields(args: argparse.Namespace, cls: type, skip: tuple[str, ...] = ()) -> dict:
    """The scalar fields of ``cls`` that were given on the command line."""
    names = [name for name, _, _ in scalar_fields(cls, skip)]
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}
