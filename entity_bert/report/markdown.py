"""Tables as GitHub Markdown, one way for every page the report writes."""

from __future__ import annotations

import pandas as pd


def markdown_table(frame: pd.DataFrame, digits: int | None = None, yes_no: bool = False) -> str:
    """A GitHub table; missing values blank, numbers rounded to ``digits``, booleans as yes/no if asked."""
    shown = (frame if digits is None else frame.round(digits)).astype(object)
    if yes_no:
        shown = shown.map(lambda v: {True: "yes", False: "no"}.get(v, v) if isinstance(v, bool) else v)
    return shown.where(frame.notna(), None).to_markdown(index=False, missingval="")
