"""Table 1: measured rows from stats.json, the paper's rows labelled as claims."""

from __future__ import annotations

from entity_bert.data.prepare import prepare_corpus
from entity_bert.report.claims import claimed_table
from entity_bert.report.tables import conversion_table, table1, table1_markdown


def _stats(toy_params):
    return [prepare_corpus(corpus, toy_params) for corpus in toy_params.corpora]


def test_measured_rows_per_split_and_all(toy_params):
    frame = table1(_stats(toy_params))
    brat = frame[(frame.source == "measured") & (frame.corpus == "toy-brat")].set_index("split")
    assert list(brat.index) == ["train", "dev", "test", "all"]
    assert brat.loc["all", "documents"] == 20
    assert brat.loc["all", "Illness"] == 20  # default label set: the mapping's types
    for column in ("sentences", "tokens", "Illness", "entities"):
        assert brat.loc["all", column] == brat.loc[["train", "dev", "test"], column].sum()
    tsv = frame[frame.corpus == "toy-tsv"].set_index("split")
    assert tsv.loc["all", "documents"] is not None and str(tsv.loc["all", "documents"]) == "<NA>"


def test_claimed_rows_are_the_papers_and_labelled(toy_params):
    frame = table1(_stats(toy_params))
    claimed = frame[frame.source != "measured"]
    paper = claimed_table("table1_dataset_counts")
    assert list(claimed.corpus) == list(paper.dataset)
    assert set(claimed.source) == {"claimed: Lu et al. 2023 (Front. Neurosci. 17:1259652), Table 1"}
    assert list(claimed.Laboratory_test) == list(paper["Laboratory test"])


def test_conversion_table_accounts_for_every_entity(toy_params):
    table = conversion_table(_stats(toy_params)).set_index(["corpus", "label_set"])
    row = table.loc[("toy-brat", "illness")]
    dropped = row[["not_in_label_set", "discontinuous_dropped", "no_tokens_dropped"]].sum()
    dropped += row[["nested_dropped", "overlapping_dropped"]].sum()
    assert row.entities_in_source == row.entities_kept + dropped == 80


def test_markdown_page_has_every_section(toy_params):
    page = table1_markdown(_stats(toy_params))
    headings = ("# Table 1", "## The paper's Table 1 (claimed", "## Which paper dataset", "## Conversion")
    assert all(heading in page for heading in headings)
    assert "<NA>" not in page
