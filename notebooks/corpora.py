# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The corpora
#
# Table 1 of the study, measured from `data/processed` (written by
# `entity-bert data prepare`) beside the paper's claimed counts, the
# conversion policies' counts, and one tagged sentence per corpus. All logic
# lives in `entity_bert`; this notebook only calls it.

# %% tags=["parameters"]
params_file = "params/data.yaml"
processed_dir = "data/processed"

# %%
from entity_bert.core.project import enter_project

enter_project()  # paths are relative to the project's root, wherever the kernel started

# %%
from pathlib import Path

from entity_bert.data.corpus import read_jsonl
from entity_bert.data.prepare import DataParams
from entity_bert.report.tables import conversion_table, load_stats, table1

params = DataParams.load(params_file)
stats = load_stats(processed_dir, params.corpora)
table1(stats)

# %%
conversion_table(stats)

# %%
for corpus in stats:
    name, label_set = corpus["corpus"], corpus["default_label_set"]
    sentence = read_jsonl(Path(processed_dir) / name / label_set / "test.jsonl")[0]
    print(name, sentence.inline())
