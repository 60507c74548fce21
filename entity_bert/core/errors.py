"""The one error type for bad input: it names the file and line at fault.

Every reader raises :class:`InputError`; the command line prints it as a
single line ``FILE:LINE: what is wrong`` and exits with status 2.
"""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad input at a known place: ``str(error)`` is ``FILE:LINE: message``."""

    def __init__(self, path: str | Path, line: int | None, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}"
