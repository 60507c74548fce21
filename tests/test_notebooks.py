"""The notebooks run under papermill with injected parameters (on toy data)."""

from __future__ import annotations

import json
from pathlib import Path

import papermill
import yaml

from entity_bert.data.prepare import prepare_corpus

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def test_corpora_notebook_runs_on_toy_data(tmp_path, toy_params):
    for corpus in toy_params.corpora:
        prepare_corpus(corpus, toy_params)
    params = tmp_path / "data.yaml"
    params.write_text(yaml.safe_dump({"data": vars(toy_params)}), "utf-8")
    out = tmp_path / "corpora.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOKS / "corpora.ipynb"),
        str(out),
        parameters={"params_file": str(params), "processed_dir": toy_params.processed_dir},
        kernel_name="python3",
        progress_bar=False,
    )
    cells = json.loads(out.read_text())["cells"]
    printed = "".join(
        "".join(o.get("text", "")) for c in cells if c["cell_type"] == "code" for o in c.get("outputs", [])
    )
    assert "lung/B-Illness cancer/I-Illness" in printed
