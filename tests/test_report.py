"""The report: verdicts computed from fixture tables, and the page written from them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from entity_bert.report import page as report
from entity_bert.report import verdicts
from entity_bert.report.claims import CITATION

SYSTEMS = {
    "bert": "BERT (Li et al. 2020)",
    "biaffine": "Yu et al. (2020) biaffine",
    "entity-bert": "Entity-BERT (ours)",
}
PROFILE = {
    "profile": "fixture-profile",
    "description": "fixture tables for the report's tests",
    "study": {
        "corpora": ["maccrobat2020", "jnlpba"],
        "systems": list(SYSTEMS),
        "seeds": [13, 14, 15],
        "encoder": "tiny-random",
        "run": {
            "regime": "frozen", "epochs": 8, "patience": 3, "lr": 0.001, "max_train_sentences": 1000,
            "max_dev_sentences": 500,
        },
        "system_overrides": {"biaffine": {"max_eval_sentences": 100, "head_lr": None}},
        "tables": {"table2": ["maccrobat2020"], "table3": ["jnlpba"]},
        "bootstrap": {"samples": 1000, "seed": 13},
    },
}


def quality(corpus: str, scores: dict[str, float]) -> pd.DataFrame:
    """A quality table: system -> precision = recall = accuracy = F1 (std 0.01), then one claimed row."""
    rows = [
        {
            "source": "measured",
            "corpus": corpus,
            "stands_in_for": f"stand-in for {corpus}",
            "method": SYSTEMS[system],
            "system": system,
            "seeds": "13 14 15",
            "test_sentences": "100-500",
            "train_sentences": 1000,
            **{
                f"{m}_{s}": (score if s == "mean" else 0.01)
                for m in ("precision", "recall", "accuracy", "f1")
                for s in ("mean", "std")
            },
        }
        for system, score in scores.items()
    ]
    claimed = {
        "source": f"claimed: {CITATION}, Table 2",
        "corpus": "ACE 2004",
        "method": SYSTEMS["bert"],
        "precision_mean": 0.8657,
        "recall_mean": 0.8823,
        "accuracy_mean": 0.8639,
    }
    return pd.DataFrame([*rows, claimed])


def efficiency(corpus: str, parameters: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "source": "measured",
                "corpus": corpus,
                "stands_in_for": "x",
                "method": SYSTEMS[system],
                "system": system,
                "seeds": "13 14 15",
                "parameters_m_mean": value,
                "trainable_parameters_m_mean": 1.0,
                "flops_g_mean": value / 10,
                "inference_ms_mean": value,
                "inference_ms_std": 0.1,
                "throughput_sentences_per_s_mean": 1.0,
                "training_s_mean": value,
                "training_s_std": 1.0,
                "device": "cpu",
            }
            for system, value in parameters.items()
        ]
    )


def significance(rows: list[tuple[str, str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "corpus": corpus,
                "method": SYSTEMS[system],
                "system": system,
                "seeds": "13 14 15",
                "f1_entity_bert": 0.5,
                "f1_system": 0.5 - delta,
                "delta_f1": delta,
                "t_statistic": 1.0,
                "p_seeds": 0.2,
                "sentences": 100,
                "bootstrap_samples": 1000,
                "delta_bootstrap": delta,
                "ci_low": delta - 0.01,
                "ci_high": delta + 0.01,
                "p_bootstrap": p,
            }
            for corpus, system, delta, p in rows
        ]
    )


def write_fixture_tables(folder: Path) -> None:
    """maccrobat2020: Entity-BERT best and at 0.97; jnlpba: Entity-BERT behind BERT."""
    folder.mkdir(parents=True, exist_ok=True)
    frames = {
        "table2_quality": quality("maccrobat2020", {"bert": 0.90, "biaffine": 0.80, "entity-bert": 0.97}),
        "table3_quality": quality("jnlpba", {"bert": 0.70, "biaffine": 0.60, "entity-bert": 0.65}),
        "table4_efficiency": efficiency(
            "maccrobat2020", {"bert": 22.7, "biaffine": 25.0, "entity-bert": 23.5}
        ),
        "significance": significance(
            [
                ("maccrobat2020", "bert", 0.07, 0.001),
                ("maccrobat2020", "biaffine", 0.17, 0.001),
                ("jnlpba", "bert", -0.05, 0.01),
                ("jnlpba", "biaffine", 0.05, 0.3),
            ]
        ),
    }
    for name, frame in frames.items():
        frame.to_csv(folder / f"{name}.csv", index=False)


@pytest.fixture
def tables(tmp_path: Path) -> dict:
    write_fixture_tables(tmp_path / "tables")
    return report.load_tables(tmp_path / "tables")


def test_verdict_word_counts_cases():
    assert verdicts.verdict_word(2, 2) == "reproduced"
    assert verdicts.verdict_word(0, 2) == "not reproduced"
    assert verdicts.verdict_word(1, 2) == "partly (1 of 2 corpora)"
    assert verdicts.verdict_word(0, 0) == "not testable here"


def test_precision_recall_claim_holds_on_one_corpus_only(tables):
    verdict = verdicts.claim_precision_recall([tables["table2_quality"], tables["table3_quality"]])
    assert verdict.verdict == "partly (1 of 2 corpora)"
    met = dict(zip(verdict.details.corpus, verdict.details["at least the paper's lowest"], strict=True))
    assert met == {"maccrobat2020": True, "jnlpba": False}
    assert verdict.paper.startswith("P and R 0.9622-0.9843")  # the paper's Entity-BERT rows, min and max


def test_highest_quality_reproduced_on_one_corpus_and_not_on_the_other(tables):
    both = verdicts.claim_highest_quality([tables["table2_quality"], tables["table3_quality"]])
    assert both.verdict == "partly (1 of 2 corpora)"
    only_first = verdicts.claim_highest_quality([tables["table2_quality"], None])
    assert only_first.verdict == "reproduced"
    only_second = verdicts.claim_highest_quality([None, tables["table3_quality"]])
    assert only_second.verdict == "not reproduced"
    assert only_second.details["best other P by"].iloc[0] == SYSTEMS["bert"]


def test_significance_needs_a_positive_delta_and_a_small_p(tables):
    verdict = verdicts.claim_significance(tables["significance"])
    assert verdict.details["significantly better"].tolist() == [True, True, False, False]
    assert verdict.verdict == "partly (2 of 4 comparisons)"


def test_efficiency_claim_fails_when_another_system_is_smaller(tables):
    verdict = verdicts.claim_efficiency([tables["table4_efficiency"], None])
    assert verdict.verdict == "not reproduced"
    assert set(verdict.details["smallest other by"]) == {SYSTEMS["bert"]}
    assert "16 of 16" in verdict.paper  # the paper's Entity-BERT is smallest everywhere (claims data)


def test_efficiency_claim_compares_times_on_the_same_device_only():
    frame = efficiency("maccrobat2020", {"bert": 22.7, "biaffine": 30.0, "entity-bert": 23.5})
    on_gpu = frame.system == "biaffine"
    frame.loc[on_gpu, ["inference_ms_mean", "training_s_mean", "device"]] = [1.0, 2.0, "cuda"]
    details = verdicts.claim_efficiency([frame, None]).details.set_index("measure")
    # the biaffine GPU times are far below Entity-BERT's CPU times, but they are not compared with them
    assert details.loc["training time", "smallest other by"] == SYSTEMS["bert"]
    assert details.loc["inference time", "smallest other"] == 22.7
    frame.loc[frame.system == "bert", "device"] = "cuda"  # no other system timed on Entity-BERT's device
    details = verdicts.claim_efficiency([frame, None]).details
    assert set(details.measure) == {"parameters", "FLOPs"}


def test_rnn_claim_marks_differences_smaller_than_the_seed_spread():
    table6 = pd.DataFrame(
        {
            "source": "measured",
            "corpus": "maccrobat2020",
            "method": ["LSTM (Entity-BERT as proposed)", "GRU"],
            "precision_mean": [0.60, 0.59],
            "recall_mean": [0.6565, 0.6557],
            "accuracy_mean": [0.86, 0.80],
            **{f"{m}_std": [0.015, 0.002] for m in ("precision", "recall", "accuracy")},
        }
    )
    verdict = verdicts.claim_rnn_ablation(table6)
    assert verdict.verdict == "reproduced"  # the paper's criterion: higher means on all three measures
    close = verdict.details.set_index("measure")["within seed spread"]
    assert close.to_dict() == {"precision": True, "recall": True, "accuracy": False}
    assert "maccrobat2020: LSTM highest on 3 of 3 measures (2 of 3 differences within the seeds' spread)" in (
        verdict.ours
    )
    table6[[f"{m}_std" for m in ("precision", "recall", "accuracy")]] = float("nan")  # one seed each
    assert not verdicts.claim_rnn_ablation(table6).details["within seed spread"].any()


def test_rnn_claim_on_the_committed_table_and_grid_claim():
    folder = Path(__file__).resolve().parents[1] / "results" / "default" / "tables"
    table6 = pd.read_csv(folder / "table6_rnn_ablation.csv")
    lstm = table6.method.str.startswith("LSTM") & (table6.source == "measured")
    table6.loc[lstm, ["precision_mean", "recall_mean", "accuracy_mean"]] = 0.99
    assert verdicts.claim_rnn_ablation(table6).verdict == "reproduced"
    table6.loc[lstm, "recall_mean"] = 0.01
    assert verdicts.claim_rnn_ablation(table6).verdict == "not reproduced"
    # A grid that searches every key the paper names (the committed profile may hold some fixed).
    grid = pd.DataFrame(
        [
            dict(lr=lr, hidden=hidden, batch_size=64, epochs=epochs, best_dev_f1=0.5, status="ok")
            for lr in (0.001, 0.01)
            for hidden in (64, 128)
            for epochs in (10, 20)
        ]
    )
    paper_point = (grid.lr == 0.001) & (grid.hidden == 128) & (grid.batch_size == 64) & (grid.epochs == 20)
    grid.loc[paper_point, "best_dev_f1"] = 0.99
    assert verdicts.claim_grid_search(grid).verdict == "reproduced"
    grid.loc[paper_point, "best_dev_f1"] = 0.0
    lost = verdicts.claim_grid_search(grid)
    assert lost.verdict == "not reproduced" and f"ranks {len(grid)} of {len(grid)}" in lost.note
    assert verdicts.claim_grid_search(grid.head(1)).verdict == "not testable here"  # nothing searched
    fixed = grid[(grid.epochs == 10) & (grid.lr == 0.001)].copy()  # epochs held at 10: tested on the rest
    fixed.loc[fixed.hidden == 128, "best_dev_f1"] = 0.99
    held = verdicts.claim_grid_search(fixed)
    assert held.verdict == "reproduced" and "held fixed" in held.note and "epochs" in held.note


def test_report_names_the_profile_labels_claims_and_survives_missing_tables(tmp_path, tables):
    out = tmp_path / "REPORT.md"
    report.write_report(tmp_path / "tables", out, PROFILE)
    text = out.read_text("utf-8")
    assert "fixture-profile" in text and "frozen" in text and "max_eval_sentences=100, head_lr=lr" in text
    assert "early stopping scores a seeded 500 of a larger dev split" in text
    assert "make study" in text and "dvc repro" in text
    assert f"the paper's figure (claimed: {CITATION})" in text and "ours (measured)" in text
    assert "partly (1 of 2 corpora)" in text
    assert "not measured in this profile" in text  # no Table 5, Table 6 or grid search in the fixture
    assert "[table2_quality](tables/table2_quality.md)" not in text  # only the CSV exists: no link
    assert "## What was not reproduced, and why" in text and "## Limits" in text
    assert "**Claim 4**" in text  # not reproduced, so explained
    assert "## The paper beside the literature" in text and "(published; " in text  # report/literature.py
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_report_is_written_atomically(tmp_path, tables, monkeypatch):
    out = tmp_path / "REPORT.md"
    out.write_text("previous report", "utf-8")

    def broken(*args, **kwargs):
        raise RuntimeError("table broken mid-way")

    monkeypatch.setattr(report, "limits_section", broken)
    with pytest.raises(RuntimeError):
        report.write_report(tmp_path / "tables", out, PROFILE)
    assert out.read_text("utf-8") == "previous report"
    monkeypatch.undo()
    calls = []
    monkeypatch.setattr(report, "atomic_write_text", lambda path, text: calls.append(path))
    report.write_report(tmp_path / "tables", out, PROFILE)
    assert calls == [out] and out.read_text("utf-8") == "previous report"  # only through the atomic helper


def test_report_of_an_empty_tables_folder(tmp_path):
    out = tmp_path / "results" / "REPORT.md"
    report.write_report(tmp_path / "results" / "tables", out, {"profile": "smoke"})
    text = out.read_text("utf-8")
    assert "smoke" in text and "Not testable in this profile: claim(s) 1, 2, 3, 4, 5, 6." in text
    assert "Every claim tested in this profile was reproduced." in text


def test_a_grid_whose_points_all_failed_is_not_testable_rather_than_a_crash():
    failed = pd.DataFrame(
        {
            "lr": [0.001, 0.01],
            "hidden": [16, 16],
            "batch_size": [16, 16],
            "epochs": [1, 1],
            "best_dev_f1": [None, None],
            "status": ["error", "error"],
        }
    )
    verdict = verdicts.claim_grid_search(failed)
    assert verdict.verdict == verdicts.NOT_TESTABLE and "no grid point finished" in verdict.ours


def test_the_report_shows_the_cells_page_and_links_the_other_profiles_reports(tmp_path, tables):
    from entity_bert.report.study_tables import _cells_page, cells_table

    from .study_runs import make_run

    runs = [make_run("ncbi-disease", "entity-bert", 13, 0.8), make_run("ncbi-disease", "bert", 13, 0.7)]
    frame = cells_table(runs, ["ncbi-disease"], ["entity-bert", "bert", "mrc"], [13, 14])
    assert list(frame["seeds done"]) == ["13", "13", ""] and list(frame["seeds missing"]) == [
        "14",
        "14",
        "13 14",
    ]
    hours = [round(run["efficiency"]["training_s"] / 3600, 2) for run in runs]
    assert frame["training h"].tolist()[:2] == hours and pd.isna(frame["training h"][2])
    page = _cells_page(frame)
    assert f"Training time measured so far: {sum(hours):.2f} h in all" in page
    assert "mrc" not in page.split("in all (")[1].split(")")[0]  # a system with no cells done has no time
    (tmp_path / "tables" / "cells.md").write_text(page, "utf-8")
    default = tmp_path / "default" / "REPORT.md"
    default.parent.mkdir()
    default.write_text("# the default profile's report\n", "utf-8")
    out = tmp_path / "REPORT.md"
    others = {"default": default, "paper": tmp_path / "paper" / "REPORT.md"}  # paper's not written: no link
    report.write_report(tmp_path / "tables", out, PROFILE, others=others)
    text = out.read_text("utf-8")
    assert "The other profiles' reports: [`default`](default/REPORT.md)." in text
    assert (
        "## Cells: what ran, where, and what is missing" in text and "**2 of 6 training cells done**" in text
    )


def test_verdicts_drawn_while_runs_are_missing_are_provisional_and_say_how_many_are_done(tmp_path, tables):
    folder = tmp_path / "tables"
    cells = pd.DataFrame(
        {
            "corpus": ["maccrobat2020", "maccrobat2020"],
            "system": ["entity-bert", "bert"],
            "seeds done": ["13 14", "13"],
            "seeds missing": ["15", "14 15"],
        }
    )
    cells.to_csv(folder / "cells.csv", index=False)
    table6 = pd.DataFrame(
        {
            "source": "measured",
            "corpus": "maccrobat2020",
            "method": ["LSTM (Entity-BERT as proposed)", "GRU"],
            "seeds": ["13 14", "13"],
            **{f"{m}_mean": [0.6, 0.5] for m in ("precision", "recall", "accuracy", "f1")},
            **{f"{m}_std": [0.01, 0.01] for m in ("precision", "recall", "accuracy", "f1")},
        }
    )
    table6.to_csv(folder / "table6_rnn_ablation.csv", index=False)
    ablation = {"corpora": ["maccrobat2020", "ncbi-disease"], "cells": ["lstm", "gru"], "seeds": [13, 14, 15]}
    out = tmp_path / "REPORT.md"
    report.write_report(folder, out, {**PROFILE, "ablation": ablation})
    text = out.read_text("utf-8")
    assert "partly (1 of 2 corpora) (provisional: 2 of 3 entity-bert training cells done)" in text
    assert "(provisional: 3 of 6 training cells done)" in text  # claims 2-4 rest on every system's cells
    assert "reproduced (provisional: 3 of 12 Table 6 runs done)" in text
    assert "**Provisional:** the verdict(s) on claim(s) 1, 2, 3, 4, 5 are drawn" in text
    cells["seeds done"], cells["seeds missing"] = "13 14 15", ""
    cells.to_csv(folder / "cells.csv", index=False)
    report.write_report(folder, out, PROFILE)  # every cell done; no ablation asked for
    text = out.read_text("utf-8")
    assert "provisional" not in text.lower()


def test_sentence_counts_of_whole_splits_read_as_all():
    from entity_bert.report.page import _sentence_range

    measured = pd.DataFrame({"source": ["measured", "measured"], "train_sentences": ["all", "all"]})
    assert _sentence_range({"table2_quality": measured}, "train_sentences") == "all the"
    mixed = pd.DataFrame({"source": ["measured", "measured"], "train_sentences": ["600", "50-all"]})
    assert _sentence_range({"table2_quality": mixed}, "train_sentences") == "50-600 (or all)"


def test_the_cells_page_names_the_gpu_and_counts_its_hours_apart():
    from entity_bert.report.study_tables import _cells_page, cells_table

    from .study_runs import make_run

    runs = [make_run("ncbi-disease", "entity-bert", 13, 0.8), make_run("ncbi-disease", "mrc", 13, 0.7)]
    runs[0]["environment"] = {"device": "cpu"}
    runs[1]["environment"] = {"device": "cuda", "gpu": "NVIDIA H200", "torch": "2.11.0+cu130"}
    frame = cells_table(runs, ["ncbi-disease"], ["entity-bert", "mrc"], [13]).set_index("system")
    assert frame.loc["mrc", "device"] == "cuda (NVIDIA H200)" and frame.loc["entity-bert", "device"] == "cpu"
    assert frame.loc["mrc", "torch"] == "2.11.0+cu130" and frame.loc["entity-bert", "torch"] == ""
    gpu_hours = round(runs[1]["efficiency"]["training_s"] / 3600, 2)
    assert frame.loc["mrc", "gpu h"] == gpu_hours and pd.isna(frame.loc["entity-bert", "gpu h"])
    page = _cells_page(frame.reset_index())
    assert f"Of that, {gpu_hours:.2f} h ran on a GPU (mrc {gpu_hours:.2f} h)" in page
