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
# # Inside one trained run
#
# Loads a run of the study from its checkpoint folder and shows its
# predictions on one test document (gold and predicted entities, a colour per
# type, errors outlined in red), its errors by entity type, and Entity-BERT's
# cross-attention weights for one sentence. All logic lives in
# `entity_bert.study.explore`; this notebook only calls it. Set `run_dir` to any
# run's checkpoint folder (it holds `config.json` and `best/`).

# %% tags=["parameters"]
run_dir = (
    "checkpoints/default/maccrobat2020__entity-bert__seed13/maccrobat2020__paper6__entity-bert__frozen__seed13"
)
split = "test"
document = None  # None: the split's first document
max_sentences = 200  # sentences counted in the errors by type

# %%
from entity_bert.core.project import enter_project

enter_project()  # paths are relative to the project's root, wherever the kernel started

# %%
# %matplotlib inline
from IPython.display import HTML

from entity_bert.study import explore

run = explore.load_run(run_dir)
print(run.config.name, "on", split)

# %% [markdown]
# ## One document: gold and predicted entities
#
# Each entity is highlighted in its type's colour. A gold entity outlined in
# red was missed (not predicted exactly: a false negative); a predicted one
# outlined in red is not a gold entity (a false positive).

# %%
sentences = explore.document_sentences(explore.split_sentences(run, split), document)
HTML(explore.document_html(sentences, [s.tags for s in sentences], explore.predict(run, sentences)))

# %% [markdown]
# ## Errors by type
#
# On the split's first `max_sentences` sentences: gold, predicted and correct
# entities per type (seqeval strict IOB2, as every score of the study), false
# positives and false negatives; of the false positives, those that overlap a
# gold entity of the same type (boundary errors) and those that cover exactly a
# gold entity of another type (type errors).

# %%
sample = explore.split_sentences(run, split, max_sentences)
explore.errors_by_type([s.tags for s in sample], explore.predict(run, sample))

# %% [markdown]
# ## Cross-attention of one sentence
#
# Entity-BERT's a_ij for the document's first sentence: row i is how the
# BiLSTM's word i reads the encoder's words j (each row sums to 1). Models
# without Entity-BERT's cross-attention raise a `TypeError` here.

# %%
words, matrix = explore.cross_attention(run, sentences[0])
explore.plot_attention(words, matrix)
