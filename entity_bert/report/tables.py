"""The study's tables, measured beside claimed, as CSV and Markdown.

Table 1 (corpus statistics) is built from the ``stats.json`` that
``entity-bert data prepare`` writes for each corpus: per corpus (default label
set) and split, the documents, sentences, tokens and entities per type; the
paper's Table 1 follows, labelled as the paper's claim; then the conversion
policies' counts, so that every source entity is accounted for.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from entity_bert.core.fileio import atomic_write_text
from entity_bert.data.iob2 import DECODINGS
from entity_bert.data.splits import SPLITS
from entity_bert.report.claims import CITATION, claimed_table
from entity_bert.report.markdown import markdown_table
from entity_bert.runs.record import with_decoding

CONVERSION_COLUMNS = [
    "entities_in_source",
    "in_repeated_documents",
    "entities_kept",
    "not_in_label_set",
    "discontinuous",
    "discontinuous_dropped",
    "boundary_inside_token",
    "nested_dropped",
    "overlapping_dropped",
    "no_tokens_dropped",
    "sentence_breaks_removed",
    "extra_field_after_text",
    "iob2_repairs",
]


def load_stats(processed_dir: str | Path, corpora: list[str]) -> list[dict]:
    """The ``stats.json`` of each corpus, in the given order."""
    return [json.loads((Path(processed_dir) / c / "stats.json").read_text("utf-8")) for c in corpora]


def _measured_rows(stats: dict) -> list[dict]:
    label_set = stats["default_label_set"]
    per_split = stats["label_sets"][label_set]["splits"]
    rows = []
    for split in [*SPLITS, "all"]:
        parts = list(per_split.values()) if split == "all" else [per_split[split]]
        documents = [p["documents"] for p in parts]
        row = {
            "source": "measured",
            "corpus": stats["corpus"],
            "label_set": label_set,
            "split": split,
            "documents": None if None in documents else sum(documents),
            "sentences": sum(p["sentences"] for p in parts),
            "tokens": sum(p["tokens"] for p in parts),
        }
        for kind in stats["label_sets"][label_set]["types"]:
            row[kind] = sum(p["entities"].get(kind, 0) for p in parts)
        rows.append(row)
    return rows


def _claimed_rows() -> list[dict]:
    claimed = claimed_table("table1_dataset_counts")
    rows = []
    for record in claimed.to_dict("records"):
        row = {"source": f"claimed: {CITATION}, Table 1", "corpus": record.pop("dataset"), "split": "all"}
        row.update({kind.replace(" ", "_"): count for kind, count in record.items()})
        rows.append(row)
    return rows


def table1(stats: list[dict]) -> pd.DataFrame:
    """Measured rows for every corpus and split, then the paper's claimed rows."""
    frame = pd.DataFrame([r for s in stats for r in _measured_rows(s)] + _claimed_rows())
    fixed = ["source", "corpus", "label_set", "split", "documents", "sentences", "tokens"]
    types = [c for c in frame.columns if c not in fixed]
    frame["entities"] = frame[types].sum(axis=1, min_count=1)
    counts = [*fixed[4:], "entities", *types]
    return frame[[*fixed[:4], *counts]].astype(dict.fromkeys(counts, "Int64"))


def conversion_table(stats: list[dict]) -> pd.DataFrame:
    """Per corpus and label set, all splits together: what each policy did."""
    rows = []
    for corpus in stats:
        for label_set, content in corpus["label_sets"].items():
            repeated = corpus["repeated_documents_removed"]["entities_in_source"]
            totals = {"in_repeated_documents": repeated, "entities_in_source": repeated}
            for split in content["splits"].values():
                for key, value in split["conversion"].items():
                    totals[key] = totals.get(key, 0) + value
            rows.append({"corpus": corpus["corpus"], "label_set": label_set} | totals)
    frame = pd.DataFrame(rows)
    columns = [c for c in CONVERSION_COLUMNS if c in frame.columns]
    return frame[["corpus", "label_set", *columns]].fillna(0).astype({c: int for c in columns})


def table1_markdown(stats: list[dict]) -> str:
    """Table 1 as a Markdown page: ours, the paper's, stand-ins, conversion counts."""
    frame = table1(stats)
    measured = frame[frame.source == "measured"].drop(columns="source").dropna(axis=1, how="all")
    claimed = frame[frame.source != "measured"].drop(columns=["source", "label_set"])
    claimed = claimed.dropna(axis=1, how="all")
    first = stats[0]
    stand_ins = pd.DataFrame(
        [{"corpus": s["corpus"], "title": s["title"], "stands in for": s["stands_in_for"]} for s in stats]
    )
    return "\n".join(
        [
            "# Table 1: corpora",
            "",
            f"Measured from `data/processed` (split protocol `{first['split_protocol']}`, "
            f"seed {first['seed']}, discontinuous spans: `{first['discontinuous']}`); "
            "documents are blank where the source files do not record them.",
            "",
            markdown_table(measured),
            "",
            f"## The paper's Table 1 (claimed: {CITATION})",
            "",
            "The paper's datasets (ACE 2004, ACE 2005, KBP2017: LDC-licensed news/web "
            "corpora; GENIA) cannot be used here; these counts are the paper's, not ours.",
            "",
            markdown_table(claimed),
            "",
            "## Which paper dataset each corpus stands in for",
            "",
            markdown_table(stand_ins),
            "",
            "## Conversion policies: every source entity accounted for",
            "",
            "entities_in_source = in_repeated_documents + entities_kept + not_in_label_set "
            "+ discontinuous_dropped + no_tokens_dropped + nested_dropped + overlapping_dropped "
            "(in_repeated_documents: entities of documents that an official split repeats from "
            "another, kept only in the later split; "
            "policies: `entity_bert/data/spans.py`; IOB2 repairs: `entity_bert/data/iob2.py`).",
            "",
            markdown_table(conversion_table(stats)),
            "",
        ]
    )


def write_table1(processed_dir: str | Path, corpora: list[str], out_dir: str | Path) -> None:
    """Write ``table1_corpus_stats.csv`` and ``.md`` under ``out_dir``."""
    stats = load_stats(processed_dir, corpora)
    out = Path(out_dir)
    atomic_write_text(out / "table1_corpus_stats.csv", table1(stats).to_csv(index=False))
    atomic_write_text(out / "table1_corpus_stats.md", table1_markdown(stats))


RUN_COLUMNS = {
    "corpus": "corpus",
    "label_set": "label set",
    "split": "split",
    "variant": "model",
    "regime": "regime",
    "seed": "seed",
}


def runs_table(runs_dir: str | Path, decode: str = DECODINGS[0]) -> pd.DataFrame:
    """One row per result JSON under ``runs_dir``: who, quality (under ``decode``) and efficiency."""
    rows = []
    for path in sorted(Path(runs_dir).glob("*.json")):
        record = with_decoding(json.loads(path.read_text("utf-8")), decode)
        efficiency = record.get("efficiency", {})
        micro = record["scores"]["micro"]
        rows.append(
            {name: record.get(key, record["model"]) for key, name in RUN_COLUMNS.items()}
            | {
                "decoding": record["decode"],
                "precision": micro["precision"],
                "recall": micro["recall"],
                "F1": micro["f1"],
                "token accuracy": record["scores"]["token_accuracy"],
                "epochs": record.get("epochs_run"),
                "train sentences": record["config"]["max_train_sentences"] or "all",
                "dev/test sentences": record["config"]["max_eval_sentences"] or "all",
                "parameters (M)": efficiency.get("parameters_m"),
                "GFLOPs/sentence": efficiency.get("flops_g"),
                "latency (ms)": efficiency.get("latency_ms"),
                "training (s)": efficiency.get("training_s"),
            }
        )
    return pd.DataFrame(rows)


def write_runs_table(runs_dir: str | Path, out: str | Path) -> None:
    """The runs table as Markdown (numbers rounded for reading; the JSON files keep them whole)."""
    frame = runs_table(runs_dir)
    page = "\n".join([f"# Runs in `{runs_dir}`", "", markdown_table(frame.round(4)), ""])
    atomic_write_text(out, page)


CELL_METHODS = {  # our recurrent layer -> the paper's Table 6 row
    "lstm": "LSTM (Entity-BERT as proposed)",
    "gru": "GRU",
    "sru": "SRU",
    "indrnn": "IndRNN",
    "gfrnn": "Gated feedback RNN",
}


def table6(records: list[dict], decode: str = DECODINGS[0]) -> pd.DataFrame:
    """Per corpus and recurrent layer: mean and standard deviation over seeds, then the paper's claims.

    Each run's figures are those of its ``decode`` decoding.
    """
    rows = []
    for record in (with_decoding(r, decode) for r in records):
        micro = record["scores"]["micro"]
        rows.append(
            {
                "corpus": record["corpus"],
                "method": CELL_METHODS.get(record["cell"], record["cell"]),
                "seed": record["seed"],
                "precision": micro["precision"],
                "recall": micro["recall"],
                "accuracy": record["scores"]["token_accuracy"],
                "f1": micro["f1"],
            }
        )
    frame = pd.DataFrame(rows)
    frame["method"] = pd.Categorical(frame.method, categories=list(CELL_METHODS.values()), ordered=True)
    frame = frame.sort_values(["corpus", "method", "seed"])
    frame["method"] = frame.method.astype(str)
    metrics = ["precision", "recall", "accuracy", "f1"]
    grouped = frame.groupby(["corpus", "method"], sort=False)
    ours = grouped[metrics].agg(["mean", "std"])
    ours.columns = [f"{metric}_{stat}" for metric, stat in ours.columns]
    ours = ours.reset_index()
    ours.insert(0, "source", "measured")
    ours["seeds"] = grouped["seed"].apply(lambda s: " ".join(map(str, sorted(s)))).values
    claimed = claimed_table("table6_rnn_ablation").rename(
        columns={
            "dataset": "corpus",
            "precision": "precision_mean",
            "recall": "recall_mean",
            "accuracy": "accuracy_mean",
        }
    )
    claimed.insert(0, "source", f"claimed: {CITATION}, Table 6")
    return pd.concat([ours, claimed], ignore_index=True)


def write_table6(records: list[dict], out_dir: str | Path, decode: str = DECODINGS[0]) -> pd.DataFrame:
    """``table6_rnn_ablation.csv`` and ``.md`` (the runs read under ``decode``)."""
    frame = table6(records, decode)
    out = Path(out_dir)
    atomic_write_text(out / "table6_rnn_ablation.csv", frame.to_csv(index=False))
    first = records[0]
    measured = frame[frame.source == "measured"].drop(columns="source")
    claimed = frame[frame.source != "measured"].drop(columns="source").dropna(axis=1, how="all")
    page = [
        "# Table 6: Entity-BERT with other recurrent layers",
        "",
        f"Measured: test split, label set as prepared, regime `{first['regime']}`, mean and standard "
        "deviation over the seeds listed; precision, recall and F1 are entity-level (seqeval strict, IOB2, "
        f'micro) under {decode} decoding, accuracy is token accuracy (the paper\'s "Accuracy").',
        "",
        markdown_table(measured.round(4)),
        "",
        f"## The paper's Table 6 (claimed: {CITATION})",
        "",
        "On ACE 2004 and ACE 2005, which cannot be used here (LDC-licensed news corpora).",
        "",
        markdown_table(claimed),
        "",
    ]
    atomic_write_text(out / "table6_rnn_ablation.md", "\n".join(page))
    return frame
