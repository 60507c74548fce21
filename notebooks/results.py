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
# # The study's results
#
# Tables 2-6, the significance tests and the figures of the study, as the
# pipeline wrote them under `results/` (`make study`, i.e. `dvc repro`). Every
# table holds our measurements (`source` "measured": mean and standard
# deviation over seeds) beside the paper's figures, labelled
# "claimed: Lu et al. 2023 ..., Table N". All logic lives in `entity_bert`
# (`entity_bert.report.page`, `entity_bert.report.verdicts`); this notebook only shows
# what they read. A table a profile did not produce shows as `None`.

# %% tags=["parameters"]
tables_dir = "results/default/tables"
figures_dir = "results/default/figures"
params = "params/study.yaml"  # the profile: how many Table 6 runs and grid points a complete study has

# %%
from entity_bert.core.project import enter_project

enter_project()  # paths are relative to the project's root, wherever the kernel started

# %%
from pathlib import Path

import yaml
from IPython.display import Image, display

from entity_bert.report.page import figure_paths, load_tables, verdict_table
from entity_bert.report.verdicts import all_verdicts

tables = load_tables(tables_dir)
profile = yaml.safe_load(Path(params).read_text("utf-8"))

# %% [markdown]
# ## The paper's claims and our verdicts
#
# One row per claim: the paper's figure (from the claims data shipped with the
# package), ours, and the verdict computed from the tables below. The report
# (`results/REPORT.md`) gives the table behind each verdict. A verdict drawn
# while some of its runs are missing says "provisional" and how many are done.

# %%
verdict_table(all_verdicts(tables, profile.get("tune"), profile.get("ablation")))

# %% [markdown]
# ## Table 2: quality on the medical-record corpora
#
# Entity-level precision, recall and F1 (seqeval strict, IOB2, micro) and token
# accuracy (the paper's "Accuracy") on the test split, per corpus and system;
# then the paper's Table 2 (ACE 2004 and ACE 2005), as claimed.

# %%
tables["table2_quality"]

# %% [markdown]
# ## Table 3: quality on the other biomedical corpora
#
# The same measures on the corpora of the generalisation table (JNLPBA stands
# in for the paper's GENIA); then the paper's Table 3 (GENIA, KBP2017).

# %%
tables["table3_quality"]

# %% [markdown]
# ## Tables 4 and 5: efficiency
#
# Parameters (millions, all of them and the trainable ones), GFLOPs per
# sentence, inference latency (ms per sentence) and throughput, and training
# time (s), on the device each run recorded; then the paper's figures (it
# prints parameters without a unit).

# %%
tables["table4_efficiency"]

# %%
tables["table5_efficiency"]

# %% [markdown]
# ## Table 6: Entity-BERT with other recurrent layers
#
# The RNN ablation: the BiLSTM of Entity-BERT replaced by GRU, SRU, IndRNN and
# a gated-feedback RNN; then the paper's Table 6.

# %%
tables["table6_rnn_ablation"]

# %% [markdown]
# ## Significance: Entity-BERT against each system
#
# `delta_f1`: Entity-BERT's F1 minus the system's (mean over seeds);
# `p_seeds`: paired t-test across seeds; `delta_bootstrap`, `ci_low`,
# `ci_high`, `p_bootstrap`: paired bootstrap over the test sentences both
# systems scored (95% percentile interval, two-sided p).

# %%
tables["significance"]

# %% [markdown]
# ## The grid search
#
# Dev F1 of every point of the learning-rate, hidden-units, batch-size and
# epochs grid (the paper's best point: section 4.2).

# %%
tables["grid_search"]

# %% [markdown]
# ## Figures
#
# Figures 5-6: quality per corpus and system (error bars: standard deviation
# over seeds), with the paper's claimed numbers in their own panel; Figures
# 7-8: efficiency; Figure 9: the RNN ablation; and the grid search.

# %%
for name, path in figure_paths(figures_dir).items():
    print(name)
    display(Image(filename=str(path)))
