"""Progress bars for long runs: shown on a terminal, quiet otherwise."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def progress(items: Iterable[T], desc: str, **kwargs) -> Iterable[T]:
    """``items`` wrapped in a tqdm bar when standard output is a terminal."""
    return tqdm(items, desc=desc, disable=not sys.stdout.isatty(), **kwargs)
