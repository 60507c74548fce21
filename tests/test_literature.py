"""The paper beside the literature: the packaged published figures, the three tables and their verdicts."""

from __future__ import annotations

import copy
import csv
import fnmatch
import json
import math
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from entity_bert.report import literature as lit
from entity_bert.report import page

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "paper" / "literature.csv"
CLAIMS = ROOT / "entity_bert" / "resources" / "claims" / "table2_3_quality.csv"

# Our metrics.json with the keys the scorer adds (conlleval, decoding, per type), for BC5CDR and MACCROBAT.
FULL = {
    "bc5cdr": {
        "entity-bert": {
            "f1": 0.60,
            "conlleval_f1": 0.62,
            "decode": "constrained",
            "per_type_f1": {"Chemical": 0.70, "Disease": 0.50},
            "per_type_conlleval_f1": {"Chemical": 0.71, "Disease": 0.52},
        },
        "biaffine": {
            "f1": 0.65,
            "conlleval_f1": 0.66,
            "decode": "constrained",
            "per_type_f1": {"Chemical": 0.80, "Disease": 0.40},
            "per_type_conlleval_f1": {"Chemical": 0.81, "Disease": 0.41},
        },
    },
    "maccrobat2020": {"entity-bert": {"f1": 0.40, "conlleval_f1": 0.41, "decode": "constrained"}},
}
NEW_KEYS = ("conlleval_f1", "decode", "per_type_f1", "per_type_conlleval_f1")


def bare(metrics: dict) -> dict:
    """``metrics`` as written before the scorer added its new keys."""
    return {
        corpus: {
            system: {k: v for k, v in entry.items() if k not in NEW_KEYS} for system, entry in systems.items()
        }
        for corpus, systems in metrics.items()
    }


def row(table: pd.DataFrame, **where) -> pd.Series:
    mask = pd.Series(True, index=table.index)
    for column, value in where.items():
        mask &= table[column] == value
    assert mask.sum() == 1, where
    return table[mask].iloc[0]


def test_packaged_literature_is_the_shared_file_byte_for_byte():
    if not SHARED.exists():
        pytest.skip("no ../shared beside the project")
    assert lit.literature_path().read_bytes() == SHARED.read_bytes()


def test_literature_is_package_data():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"][
        "package-data"
    ]
    assert any(fnmatch.fnmatch(lit.LITERATURE, pattern) for pattern in patterns["entity_bert"])


def test_a_row_naming_several_datasets_becomes_one_per_dataset():
    literature = lit.load_literature()
    template = literature[literature.system.str.startswith("Template BART")]
    assert sorted(template.dataset) == ["ACE 2004", "ACE 2005", "GENIA", "KBP2017"]
    assert template.f1.isna().all()


def test_implied_f1_is_computed_from_the_claimed_precision_and_recall():
    with CLAIMS.open(encoding="utf-8") as handle:
        claims = list(csv.DictReader(handle))
    claim = next(c for c in claims if c["method"] == "Li et al. (2019) MRC" and c["dataset"] == "ACE 2004")
    p, r = 100 * float(claim["precision"]), 100 * float(claim["recall"])
    by_hand = 2 * p * r / (p + r)
    shown = row(lit.baselines_table(), method="Li et al. (2019) MRC", dataset="ACE 2004")
    assert shown.f1_implied == pytest.approx(by_hand)
    assert shown.gap == pytest.approx(by_hand - shown.published_f1)
    ours = row(lit.entity_bert_table(), dataset="GENIA")
    assert ours.f1_implied == pytest.approx(lit.implied_f1(ours.precision, ours.recall))
    assert len(lit.paper_figures()) == len(claims)


def test_baselines_never_evaluated_by_their_authors_are_the_papers_own_runs():
    table = lit.baselines_table()
    assert set(table.status[table.method == "Cui et al. (2021) template BART"]) == {lit.OWN_RUN}
    assert set(table.status[table.method == "CONTaiNER (Das et al. 2021)"]) == {lit.OWN_RUN}
    assert row(table, method="Yu et al. (2020) biaffine", dataset="KBP2017").status == lit.OWN_RUN
    assert row(table, method="Yu et al. (2020) biaffine", dataset="GENIA").status == lit.BESIDE
    assert lit.PAPER_ENTITY_BERT not in set(table.method)
    shown = lit.baselines_shown(table)
    own = shown[shown["the paper's figure is"] == lit.OWN_RUN]
    assert set(own["F1 published by its authors"]) == {lit.NOT_EVALUATED}


def test_baselines_verdict_counts_gaps_over_the_rule():
    table = pd.DataFrame(
        {
            "gap": [5.0, -4.0, 1.0, -3.0, math.nan, math.nan],
            "status": [lit.BESIDE] * 4 + [lit.OWN_RUN, lit.UNTRACED],
        }
    )
    verdict = lit.baselines_verdict(table)
    assert "**2 of 4**" in verdict and "(1 below it, 1 above)" in verdict  # exactly 3 points is within
    assert "1 are the paper's own runs" in verdict and "1 have no published figure" in verdict
    assert "more than 3 points" in verdict


def test_entity_bert_verdict_counts_and_names_unconfirmed_figures():
    table = pd.DataFrame(
        {
            "gap": [8.0, 2.0, 13.0, math.nan],
            "published_f1": [89.7, 90.0, 83.0, math.nan],
            "confirmed": ["no", "no", "yes", None],
        }
    )
    verdict = lit.entity_bert_verdict(table)
    assert "**2 of 3**" in verdict and "by 8.00 to 13.00 points" in verdict
    assert "1 of those published figures are unconfirmed" in verdict


def test_best_published_is_the_highest_on_the_dataset_and_unconfirmed_figures_are_marked():
    literature = lit.load_literature()
    table = lit.entity_bert_table(literature)
    for dataset in table.dataset:
        on_it = literature[literature.dataset == dataset].f1
        assert row(table, dataset=dataset).published_f1 == on_it.max()
    shown = lit.entity_bert_shown(table)
    for best, cell in zip(table.itertuples(), shown["best F1 published"], strict=True):
        assert cell.endswith("(unconfirmed)") == (best.confirmed == "no")
    assert (table.confirmed == "no").any()  # the committed file has unconfirmed best figures


def test_domain_table_marks_an_unconfirmed_published_figure():
    literature = lit.load_literature()
    stanza = literature.system.str.startswith("Stanza") & (literature.dataset == "AnatEM")
    literature.loc[stanza, "confirmed"] = "no"
    table = lit.domain_table(FULL, ["anatem"], literature)
    shown = lit.domain_shown(table, literature, lit._source_keys(table, literature))
    assert shown["Stanza F1 (published)"].iloc[0].endswith("(unconfirmed)")
    assert not shown["scispaCy F1 (published)"].iloc[0].endswith("(unconfirmed)")
    assert shown["its strict F1 (measured)"].iloc[0] == lit.NOT_MEASURED  # anatem absent from FULL


def test_domain_table_uses_the_new_keys_when_present():
    table = lit.domain_table(FULL, ["maccrobat2020", "bc5cdr"])
    chemical = row(table, dataset="BC5CDR-chemical")
    assert chemical.best_system == "biaffine" and chemical.best_f1 == pytest.approx(80.0)
    assert chemical.best_conlleval_f1 == pytest.approx(81.0)
    assert chemical.entity_bert_f1 == pytest.approx(70.0)
    disease = row(table, dataset="BC5CDR-disease")
    assert disease.best_system == "entity-bert" and disease.entity_bert_conlleval_f1 == pytest.approx(52.0)
    both = row(table, dataset="BC5CDR (chemical+disease)")
    assert both.best_system == "biaffine" and both.best_f1 == pytest.approx(65.0)
    literature = lit.load_literature()
    stanza = literature[literature.system.str.startswith("Stanza") & (literature.dataset == both.dataset)]
    assert both.Stanza == stanza.f1.iloc[0]
    maccrobat = row(table, corpus="maccrobat2020")
    assert pd.isna(maccrobat.dataset) and maccrobat.best_f1 == pytest.approx(40.0)  # kept, not dropped
    shown = lit.domain_shown(table, literature, lit._source_keys(table, literature))
    assert lit.NA not in set(shown["its conlleval F1 (measured)"])
    assert "none in literature.csv" in set(shown["published dataset (our type)"])
    assert "`constrained` decoding" in lit._decoding_note(table)


def test_domain_table_shows_na_without_the_new_keys():
    table = lit.domain_table(bare(FULL), ["bc5cdr"])
    chemical = row(table, dataset="BC5CDR-chemical")
    assert pd.isna(chemical.best_system) and pd.isna(chemical.best_f1)
    both = row(table, dataset="BC5CDR (chemical+disease)")
    assert both.best_f1 == pytest.approx(65.0) and pd.isna(both.best_conlleval_f1)
    shown = lit.domain_shown(table, lit.load_literature(), {})
    assert set(shown["its conlleval F1 (measured)"]) == {lit.NA}
    assert shown["best system (measured)"].iloc[0] == lit.NA
    assert "not recorded" in lit._decoding_note(table)


def test_domain_verdict_counts_rows_below_the_lowest_published():
    frame = {system: [math.nan] * 4 for system in lit.DOMAIN_SYSTEMS}
    frame["BERT-base"] = [80.0, 80.0, 80.0, math.nan]
    frame["Stanza"] = [85.0, 78.0, 90.0, math.nan]
    table = pd.DataFrame(
        {
            "corpus": ["a", "b", "c", "d"],
            "dataset": ["A", "B", "C", None],
            "best_f1": [70.0, 76.0, math.nan, 50.0],
        }
        | frame
    )
    verdict = lit.domain_verdict(table)  # a: 10 below the lowest (80); b: 2 below (78); c: not measured
    assert "**1 of 2**" in verdict and "by 10.00 to 10.00 points" in verdict
    assert "1 row(s) with a published figure have no measured figure" in verdict
    assert "no published figure: d." in verdict


def test_every_published_figure_is_labelled_published():
    literature = lit.load_literature()
    published = {f"{f1:.2f}" for f1 in literature.f1.dropna()}
    table = lit.domain_table(FULL, list(lit.CORPUS_DATASETS), literature)
    keys = lit._source_keys(table, literature)
    shown = [
        lit.baselines_shown(lit.baselines_table(literature)),
        lit.entity_bert_shown(lit.entity_bert_table(literature)),
        lit.domain_shown(table, literature, keys),
    ]
    labels = ("published", "claimed", "derived by us", "measured", "gap")
    found = set()
    for frame in shown:
        for column in frame.columns:
            figures = {str(cell).split(" ")[0] for cell in frame[column] if str(cell)[:1].isdigit()}
            assert not figures or any(label in column for label in labels), column  # every figure labelled
            if "published" in column:
                found |= figures & published
    tables = lit.baselines_table(literature), lit.entity_bert_table(literature)
    for line in lit._other_lines(lit.other_published(literature, *tables)):
        assert "(published; " in line
        found.add(line.split("F1 ")[1].split(" ")[0])
    assert found == published  # every published F1 is shown somewhere
    assert all("(published;" in line for line in lit._sources(keys, literature))


def test_the_section_without_metrics_and_with_them_through_the_report(tmp_path):
    text = lit.literature_section(None, {}, "an encoder")
    assert text.startswith("## The paper beside the literature") and lit.NOT_MEASURED in text
    assert text.count("**Verdict.**") == 3
    (tmp_path / "metrics.json").write_text(json.dumps(FULL), "utf-8")
    profile = {"profile": "p", "study": {"corpora": ["bc5cdr"], "encoder": "tiny-random", "run": {}}}
    page.write_report(tmp_path / "tables", tmp_path / "REPORT.md", profile)
    report = (tmp_path / "REPORT.md").read_text("utf-8")
    assert "## The paper beside the literature" in report and "a tiny random BERT" in report
    chemical = next(line for line in report.splitlines() if "BC5CDR-chemical (Chemical)" in line)
    assert [cell.strip() for cell in chemical.split("|")][3:5] == ["biaffine", "80"]  # per-type, measured
    without = copy.deepcopy(profile)
    without["study"]["corpora"] = []
    assert "maccrobat2020" in lit.literature_section(None, without, "x")  # every corpus mapped


def test_encoder_parameters_are_counted_from_the_safetensors_header(tmp_path):
    header = json.dumps(
        {
            "__metadata__": {"format": "pt"},
            "a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
            "b": {"dtype": "F32", "shape": [4], "data_offsets": [24, 40]},
        }
    ).encode()
    (tmp_path / "model.safetensors").write_bytes(len(header).to_bytes(8, "little") + header + bytes(40))
    assert lit.encoder_parameters(str(tmp_path)) == 10
    assert lit.encoder_parameters("tiny-random") is None
    assert lit.encoder_parameters(str(tmp_path / "absent")) is None
