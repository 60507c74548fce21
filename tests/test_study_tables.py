"""Tables 2-5, the significance table and the headline metrics (entity_bert.report.study_tables)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from entity_bert.report.claims import CITATION
from entity_bert.report.study_tables import (
    decoding_table,
    efficiency_table,
    headline_metrics,
    quality_table,
    significance_table,
    write_study_tables,
)

from .study_runs import make_run, make_study_runs

CORPORA = ["maccrobat2020", "jnlpba"]
GROUPS = {"table2": ["maccrobat2020", "ncbi-disease"], "table3": ["jnlpba", "bc5cdr"]}


@pytest.fixture(scope="module")
def runs() -> list[dict]:
    return make_study_runs(tuple(CORPORA), scored={"container": 12})


def _measured(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame.source == "measured"].reset_index(drop=True)


def test_quality_table_measured_rows_summarise_the_runs(runs):
    frame = quality_table(runs, CORPORA, 2)
    measured = _measured(frame)
    assert list(zip(measured.corpus, measured.system, strict=True)) == [
        (c, s) for c in CORPORA for s in ("bert", "container", "entity-bert")
    ]  # the paper's order: ... BERT, CONTaiNER, Entity-BERT
    assert set(measured.seeds) == {"13 14 15"}
    assert list(measured.method[:3]) == [
        "BERT (Li et al. 2020)",
        "CONTaiNER (Das et al. 2021)",
        "Entity-BERT (ours)",
    ]
    ours = [r for r in runs if r["corpus"] == "jnlpba" and r["model"] == "entity-bert"]
    row = measured[(measured.corpus == "jnlpba") & (measured.system == "entity-bert")].iloc[0]
    f1 = [r["scores"]["micro"]["f1"] for r in ours]
    assert row.f1_mean == pytest.approx(np.mean(f1))
    assert row.f1_std == pytest.approx(np.std(f1, ddof=1))
    assert row.accuracy_mean == pytest.approx(np.mean([r["scores"]["token_accuracy"] for r in ours]))
    assert row.test_sentences == "20" and row.train_sentences == "200"
    assert set(measured[measured.system == "container"].test_sentences) == {"12"}
    assert "GENIA" in row.stands_in_for


def test_quality_table_claimed_rows_are_the_papers_and_labelled(runs):
    frame = quality_table(runs, CORPORA, 3)
    claimed = frame[frame.source != "measured"]
    assert set(claimed.source) == {f"claimed: {CITATION}, Table 3"}
    assert set(claimed.corpus) == {"GENIA", "KBP2017"} and len(claimed) == 12
    genia = claimed[(claimed.corpus == "GENIA") & (claimed.method == "Entity-BERT (ours)")].iloc[0]
    assert (genia.precision_mean, genia.recall_mean, genia.accuracy_mean) == (0.9622, 0.9731, 0.9144)
    assert claimed.f1_mean.isna().all() and claimed.seeds.isna().all()


def test_quality_table_ranges_one_seed_and_other_models(runs):
    mixed = [
        *runs,
        make_run("maccrobat2020", "mrc", 13, 0.5, scored=8),
        make_run("maccrobat2020", "mrc", 14, 0.5),
    ]
    mixed.append(make_run("maccrobat2020", "feature-crf", 13, 0.5) | {"study": None})  # not a paper system
    measured = _measured(quality_table(mixed, ["maccrobat2020"], 2))
    assert list(measured.system) == ["mrc", "bert", "container", "entity-bert"]
    mrc = measured.iloc[0]
    assert mrc.test_sentences == "8-20" and mrc.seeds == "13 14"
    single = _measured(quality_table(runs[:1], ["maccrobat2020"], 2)).iloc[0]
    assert pd.isna(single.f1_std) and single.seeds == "13"
    assert _measured(quality_table(runs, [], 2)).empty
    with pytest.raises(ValueError, match="more than one run"):
        quality_table([*runs, runs[0]], ["maccrobat2020"], 2)


def test_efficiency_table(runs):
    frame = efficiency_table(runs, ["jnlpba"], 5)
    measured = _measured(frame)
    assert len(measured) == 3
    ours = [r["efficiency"] for r in runs if r["corpus"] == "jnlpba" and r["model"] == "entity-bert"]
    row = measured[measured.system == "entity-bert"].iloc[0]
    assert row.inference_ms_mean == pytest.approx(np.mean([e["latency_ms"] for e in ours]))
    assert row.inference_ms_std == pytest.approx(np.std([e["latency_ms"] for e in ours], ddof=1))
    assert row.training_s_mean == pytest.approx(np.mean([e["training_s"] for e in ours]))
    assert row.parameters_m_mean == pytest.approx(ours[0]["parameters_m"]) and row.device == "cpu"
    assert measured.parameters_as_printed.isna().all()
    claimed = frame[frame.source != "measured"]
    assert set(claimed.source) == {f"claimed: {CITATION}, Table 5"} and len(claimed) == 12
    assert claimed.parameters_m_mean.isna().all()
    genia = claimed[(claimed.corpus == "GENIA") & (claimed.method == "Entity-BERT (ours)")].iloc[0]
    assert (genia.parameters_as_printed, genia.flops_g_mean, genia.inference_ms_mean) == (343.66, 3.81, 5.61)


def test_significance_table(runs):
    frame = significance_table(runs, samples=500, seed=13)
    assert list(zip(frame.corpus, frame.system, strict=True)) == [
        (c, s) for c in CORPORA for s in ("bert", "container")
    ]
    assert (frame.delta_f1 > 0).all() and (frame.p_bootstrap < 0.05).all()
    assert frame.p_seeds.notna().all() and set(frame.seeds) == {"13 14 15"}
    assert list(frame.sentences) == [20, 12, 20, 12]  # container scored 12 sentences
    assert (frame.ci_low <= frame.delta_bootstrap).all() and (frame.delta_bootstrap <= frame.ci_high).all()
    one_seed = significance_table([r for r in runs if r["seed"] == 13], samples=100, seed=1)
    assert one_seed.p_seeds.isna().all() and one_seed.t_statistic.isna().all()
    assert one_seed.p_bootstrap.notna().all()
    without_ours = significance_table([r for r in runs if r["model"] != "entity-bert"], 100, 1)
    assert without_ours.empty and "p_bootstrap" in without_ours.columns


def test_significance_compares_the_seeds_both_systems_ran(runs):
    """A system with fewer seeds is compared with Entity-BERT's runs of those seeds only, by both tests."""
    partial = [r for r in runs if r["model"] != "bert" or r["seed"] == 13]
    frame = significance_table(partial, samples=200, seed=1)
    row = frame[frame.system == "bert"].iloc[0]
    same_seed = significance_table([r for r in runs if r["seed"] == 13], samples=200, seed=1)
    expected = same_seed[same_seed.system == "bert"].iloc[0]
    assert row.seeds == "13" and pd.isna(row.p_seeds)
    assert row.delta_bootstrap == pytest.approx(expected.delta_bootstrap)
    assert row.p_bootstrap == pytest.approx(expected.p_bootstrap)
    all_seeds = frame[frame.system == "container"].iloc[0]
    assert all_seeds.seeds == "13 14 15" and all_seeds.delta_bootstrap != pytest.approx(row.delta_bootstrap)


def test_headline_metrics_shape(runs):
    metrics = headline_metrics(runs)
    assert set(metrics) == set(CORPORA)
    assert set(metrics["jnlpba"]) == {"bert", "container", "entity-bert"}
    entry = metrics["jnlpba"]["entity-bert"]
    assert set(entry) == {
        "f1", "f1_std", "precision", "recall", "accuracy", "seeds", "decode",
        "conlleval_f1", "per_type_f1", "per_type_conlleval_f1", "invalid_transitions",
    }  # fmt: skip
    assert entry["seeds"] == 3 and isinstance(entry["f1"], float) and entry["f1_std"] > 0
    assert entry["decode"] == "constrained" and entry["invalid_transitions"] == 0  # valid IOB2
    assert entry["conlleval_f1"] == pytest.approx(entry["f1"])  # on valid IOB2 the two readings agree
    assert set(entry["per_type_f1"]) == {"Disease", "Drug"}
    assert headline_metrics(runs[:1])["maccrobat2020"]["bert"]["f1_std"] is None


def test_write_study_tables(runs, tmp_path):
    tables, metrics = tmp_path / "tables", tmp_path / "metrics.json"
    write_study_tables(runs, GROUPS, tables, metrics, bootstrap_samples=200, bootstrap_seed=3)
    for name in [
        "table2_quality",
        "table3_quality",
        "table4_efficiency",
        "table5_efficiency",
        "significance",
        "decoding",
    ]:
        assert (tables / f"{name}.csv").stat().st_size > 0
        assert (tables / f"{name}.md").read_text("utf-8").startswith("# ")
    table2 = pd.read_csv(tables / "table2_quality.csv")
    assert set(table2[table2.source == "measured"].corpus) == {"maccrobat2020"}  # ncbi-disease has no runs
    page = (tables / "table2_quality.md").read_text("utf-8")
    assert f"claimed: {CITATION}" in page and "seqeval strict" in page and "stands in for" in page
    assert f"{table2.f1_mean.dropna().iloc[0]:.4f}".rstrip("0") in page  # numbers from the runs
    assert "without a unit" in (tables / "table4_efficiency.md").read_text("utf-8")
    text = metrics.read_text("utf-8")
    assert text.startswith('{\n "') and json.loads(text) == headline_metrics(runs)
    significance = pd.read_csv(tables / "significance.csv")
    assert list(significance.corpus.unique()) == ["maccrobat2020", "jnlpba"]
    assert set(significance.bootstrap_samples) == {200}


def test_write_study_tables_with_an_empty_group(runs, tmp_path):
    groups = {"table2": ["ncbi-disease"], "table3": CORPORA}
    write_study_tables(runs, groups, tmp_path, tmp_path / "m.json", bootstrap_samples=50)
    page = (tmp_path / "table2_quality.md").read_text("utf-8")
    assert "nothing measured" in page and f"claimed: {CITATION}" in page
    table2 = pd.read_csv(tmp_path / "table2_quality.csv")
    assert (table2.source != "measured").all() and len(table2) == 12
    assert len(pd.read_csv(tmp_path / "table5_efficiency.csv").query("source == 'measured'")) == 6


def test_a_run_capped_while_improving_or_never_above_zero_on_dev_is_undertrained():
    from entity_bert.report.study_tables import undertrained

    def run(epochs_run, best_epoch, dev_f1, cap=30):
        return {
            "epochs_run": epochs_run,
            "best_epoch": best_epoch,
            "config": {"epochs": cap},
            "dev_scores": {"micro": {"f1": dev_f1}},
        }

    assert undertrained(run(30, 30, 0.5))  # the cap stopped it at its best epoch
    assert undertrained(run(6, 1, 0.0))  # early stopping, but it never found an entity
    assert not undertrained(run(30, 27, 0.5))  # capped, but its best lay behind it
    assert not undertrained(run(9, 6, 0.5))  # early stopping after a peak


def test_decoding_table_sets_argmax_beside_constrained_under_both_scorers(runs):
    frame = decoding_table(runs, CORPORA, samples=300, seed=5)
    assert list(zip(frame.corpus, frame.system, strict=True)) == [
        (c, s) for c in CORPORA for s in ("bert", "entity-bert")
    ]  # the softmax heads only: CONTaiNER decodes its own way
    assert (frame.constrained_strict_f1 == frame.constrained_conlleval_f1).all()  # valid IOB2: one reading
    assert (frame.argmax_invalid_transitions > 0).all()
    assert (frame.argmax_strict_f1 != frame.argmax_conlleval_f1).any()  # stray I- tags: readings differ
    ours = [r for r in runs if r["corpus"] == "jnlpba" and r["model"] == "entity-bert"]
    row = frame[(frame.corpus == "jnlpba") & (frame.system == "entity-bert")].iloc[0]
    expected = np.mean([r["decodings"]["argmax"]["conlleval"]["micro"]["f1"] for r in ours])
    assert row.argmax_conlleval_f1 == pytest.approx(expected)
    assert row.significant == (row.p_bootstrap < 0.05) and row.sentences == 20
