"""The paper's claimed figures (Lu et al. 2023), shipped as data with the package.

The CSV and YAML files under ``resources/claims/`` transcribe the paper's
Tables 1-6 and training protocol. They are claims, to be shown beside our
measurements, never as our results; every table labels them as such.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd
import yaml

CITATION = "Lu et al. 2023 (Front. Neurosci. 17:1259652)"


def _path(name: str):
    return resources.files("entity_bert").joinpath(f"resources/claims/{name}")


def claimed_table(name: str) -> pd.DataFrame:
    """One claimed table, e.g. ``claimed_table("table1_dataset_counts")``."""
    with _path(f"{name}.csv").open(encoding="utf-8") as handle:
        return pd.read_csv(handle)


def claimed_protocol() -> dict:
    """The paper's training protocol (section 4.2)."""
    return yaml.safe_load(_path("protocol.yaml").read_text("utf-8"))
