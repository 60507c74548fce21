"""The study's Tables 2-5, its significance tests and its headline metrics, from the run results.

The study trains every (corpus, system, seed) and writes one result JSON per
run (``results/<profile>/runs/*/*.json``); the caller loads them and passes the
list of run dicts here. From them:

- :func:`quality_table` (our Tables 2 and 3): precision, recall, token
  accuracy and F1 per corpus and system, mean and standard deviation over
  seeds, then the paper's claimed rows;
- :func:`efficiency_table` (our Tables 4 and 5): parameters, FLOPs, latency,
  throughput and training time, then the paper's claimed rows;
- :func:`significance_table`: Entity-BERT against each other system, across
  seeds and over test sentences (``entity_bert.scoring.significance``);
- :func:`headline_metrics`: the mean scores as JSON (the profile's ``metrics.json``), and
  :func:`write_metric_cells`: one small file per corpus and system for ``dvc metrics show``;
- :func:`decoding_table`: Entity-BERT and BERT under both decodings (argmax
  and constrained to valid IOB2), each read by both scorers (strict seqeval
  and conlleval), and the paired bootstrap between the two decodings.

Every run is scored under both decodings; ``decode`` (the profile's
``study.decode``) picks the one the other tables headline.
:func:`write_study_tables` writes them all as CSV and Markdown. The paper's
numbers are read from ``resources/claims`` and labelled as claims; which paper
dataset a corpus stands in for is read from the corpus registry
(``resources/corpora.yaml``, via :func:`entity_bert.data.sources.corpus_sources`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from entity_bert.core.fileio import atomic_directory, atomic_write_text
from entity_bert.data.sources import corpus_sources
from entity_bert.models.registry import TABLE_SYSTEMS
from entity_bert.report.claims import CITATION, claimed_table
from entity_bert.report.markdown import markdown_table
from entity_bert.runs.record import with_decoding
from entity_bert.scoring.significance import paired_bootstrap, seed_test

OURS = "entity-bert"
QUALITY = {"precision": "precision", "recall": "recall", "accuracy": "token_accuracy", "f1": "f1"}
EFFICIENCY_MEANS = ["parameters_m", "trainable_parameters_m", "flops_g"]
EFFICIENCY_WITH_STD = {"inference_ms": "latency_ms", "training_s": "training_s"}
TIMED_COLUMNS = tuple(f"{name}_mean" for name in EFFICIENCY_WITH_STD)  # wall-clock: one device's runs only


def system_of(run: dict) -> str:
    """The study system a run belongs to (``study.system``; older runs: the model name)."""
    return (run.get("study") or {}).get("system") or run["model"]


def _study_runs(runs: list[dict]) -> list[dict]:
    """Only the runs of the systems in the paper's tables, sorted by corpus, system and seed.

    Raises ValueError when a (corpus, system, seed) has more than one run:
    averaging them would weigh that seed twice.
    """
    order = list(TABLE_SYSTEMS)
    kept = [run for run in runs if system_of(run) in TABLE_SYSTEMS]
    keys = [(run["corpus"], system_of(run), run["seed"]) for run in kept]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise ValueError(f"more than one run of (corpus, system, seed) {repeated}")
    return sorted(kept, key=lambda r: (r["corpus"], order.index(system_of(r)), r["seed"]))


def _groups(runs: list[dict], corpora: list[str]) -> list[tuple[str, str, list[dict]]]:
    """(corpus, system, runs) for every corpus in ``corpora`` and system in the paper's order."""
    kept = _study_runs(runs)
    found = []
    for corpus in corpora:
        for system in TABLE_SYSTEMS:
            chosen = [r for r in kept if r["corpus"] == corpus and system_of(r) == system]
            if chosen:
                found.append((corpus, system, chosen))
    return found


def _stands_in(corpus: str) -> str:
    return corpus_sources().get(corpus, {}).get("stands_in_for", "")


def _mean_std(values: list[float | None]) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation (ddof 1) of the values present; std None for one value."""
    present = [v for v in values if v is not None and not np.isnan(v)]
    if not present:
        return None, None
    std = float(np.std(present, ddof=1)) if len(present) > 1 else None
    return float(np.mean(present)), std


def _span(values: list) -> str:
    """One value as text, or the range "low-high" when the runs differ."""
    distinct = sorted({"" if v is None else v for v in values}, key=lambda v: (isinstance(v, str), v))
    return str(distinct[0]) if len(distinct) == 1 else f"{distinct[0]}-{distinct[-1]}"


def _scored(run: dict) -> int:
    return len(run["test_sentences"]) if "test_sentences" in run else run["scores"]["sentences"]


def undertrained(run: dict) -> bool:
    """Whether a run stopped before it was done learning, by what it recorded.

    Either the epoch cap stopped it while its dev F1 was still at its best
    (the last epoch was the best one), or its best dev F1 is 0 (it never
    predicted a correct entity). A profile's budget, not the method, then
    sets its score: such rows are flagged wherever they are compared.
    """
    best_dev = run.get("dev_scores", {}).get("micro", {}).get("f1")
    epochs = run.get("epochs_run")
    capped = epochs is not None and epochs == run["config"].get("epochs") and run.get("best_epoch") == epochs
    return bool(capped or best_dev == 0)


def _who(corpus: str, system: str, chosen: list[dict]) -> dict:
    return {
        "source": "measured",
        "corpus": corpus,
        "stands_in_for": _stands_in(corpus),
        "method": TABLE_SYSTEMS[system],
        "system": system,
        "seeds": " ".join(str(r["seed"]) for r in chosen),
    }


def _quality_row(corpus: str, system: str, chosen: list[dict]) -> dict:
    row = _who(corpus, system, chosen)
    row["test_sentences"] = _span([_scored(r) for r in chosen])
    row["train_sentences"] = _span([r["config"].get("max_train_sentences") or "all" for r in chosen])
    for name, key in QUALITY.items():
        values = [r["scores"][key] if key == "token_accuracy" else r["scores"]["micro"][key] for r in chosen]
        row[f"{name}_mean"], row[f"{name}_std"] = _mean_std(values)
    row["dev_f1_mean"] = _mean_std([r.get("dev_scores", {}).get("micro", {}).get("f1") for r in chosen])[0]
    row["undertrained"] = any(undertrained(r) for r in chosen)
    return row


def _claimed_rows(name: str, table: int, renames: dict[str, str]) -> pd.DataFrame:
    claimed = claimed_table(name)
    claimed = claimed[claimed.table == table].drop(columns="table").rename(columns={"dataset": "corpus"})
    claimed = claimed.rename(columns=renames)
    claimed.insert(0, "source", f"claimed: {CITATION}, Table {table}")
    return claimed.reset_index(drop=True)


WHO_COLUMNS = ["source", "corpus", "stands_in_for", "method", "system", "seeds"]
QUALITY_COLUMNS = [
    *WHO_COLUMNS,
    "test_sentences",
    "train_sentences",
    *[f"{name}_{stat}" for name in QUALITY for stat in ("mean", "std")],
    "dev_f1_mean",
    "undertrained",
]


def quality_table(runs: list[dict], corpora: list[str], claims_table: int) -> pd.DataFrame:
    """Our Table 2 or 3: measured rows per (corpus, system), then the paper's Table ``claims_table``.

    Measured: mean and standard deviation (ddof 1, blank for one seed) over
    seeds of micro precision, recall and F1 (seqeval strict IOB2) and token
    accuracy; ``test_sentences`` is the number of test sentences scored (a
    range when the runs differ). Claimed rows carry the paper's precision,
    recall and accuracy, with ``source`` "claimed: <citation>, Table N".
    """
    measured = pd.DataFrame(
        [_quality_row(*group) for group in _groups(runs, corpora)], columns=QUALITY_COLUMNS
    )
    renames = {m: f"{m}_mean" for m in ("precision", "recall", "accuracy")}
    claimed = _claimed_rows("table2_3_quality", claims_table, renames)
    return pd.concat([measured, claimed], ignore_index=True)[QUALITY_COLUMNS]


def _efficiency_row(corpus: str, system: str, chosen: list[dict]) -> dict:
    row = _who(corpus, system, chosen)
    measures = [r.get("efficiency", {}) for r in chosen]
    for key in EFFICIENCY_MEANS:
        row[f"{key}_mean"] = _mean_std([m.get(key) for m in measures])[0]
    for name, key in EFFICIENCY_WITH_STD.items():
        row[f"{name}_mean"], row[f"{name}_std"] = _mean_std([m.get(key) for m in measures])
        if name == "inference_ms":
            values = [m.get("throughput_sentences_per_s") for m in measures]
            row["throughput_sentences_per_s_mean"] = _mean_std(values)[0]
    row["device"] = " ".join(sorted({str(m.get("device")) for m in measures if m.get("device")}))
    return row


EFFICIENCY_COLUMNS = [
    *WHO_COLUMNS,
    "parameters_as_printed",
    "parameters_m_mean",
    "trainable_parameters_m_mean",
    "flops_g_mean",
    "inference_ms_mean",
    "inference_ms_std",
    "throughput_sentences_per_s_mean",
    "training_s_mean",
    "training_s_std",
    "device",
]


def efficiency_table(runs: list[dict], corpora: list[str], claims_table: int) -> pd.DataFrame:
    """Our Table 4 or 5: measured efficiency per (corpus, system), then the paper's Table ``claims_table``.

    Measured (means over seeds): parameters and trainable parameters in
    millions, GFLOPs per sentence, inference latency (ms per sentence, with
    its standard deviation), throughput, training time (s, with its standard
    deviation), and the device. Claimed rows: the paper's parameters exactly
    as printed (the paper gives no unit), GFLOPs, inference ms and training s.
    """
    rows = [_efficiency_row(*group) for group in _groups(runs, corpora)]
    measured = pd.DataFrame(rows, columns=EFFICIENCY_COLUMNS)
    renames = {m: f"{m}_mean" for m in ("flops_g", "inference_ms", "training_s")}
    claimed = _claimed_rows("table4_5_efficiency", claims_table, renames)
    return pd.concat([measured, claimed], ignore_index=True)[EFFICIENCY_COLUMNS]


def _by_seed(runs: list[dict]) -> dict[int, dict]:
    return {run["seed"]: run for run in runs}


def _significance_row(corpus: str, ours: list[dict], other: list[dict], samples: int, seed: int) -> dict:
    mine, theirs = _by_seed(ours), _by_seed(other)
    seeds = sorted(set(mine) & set(theirs))
    ours_common, other_common = [mine[s] for s in seeds], [theirs[s] for s in seeds]  # both tests use these
    by_seeds = seed_test(
        [r["scores"]["micro"]["f1"] for r in ours_common], [r["scores"]["micro"]["f1"] for r in other_common]
    )
    row = {
        "corpus": corpus,
        "method": TABLE_SYSTEMS[system_of(other[0])],
        "system": system_of(other[0]),
        "seeds": " ".join(map(str, seeds)),
        "f1_entity_bert": by_seeds["mean_a"],
        "f1_system": by_seeds["mean_b"],
        "delta_f1": by_seeds["delta"],
        "t_statistic": by_seeds["t_statistic"],
        "p_seeds": by_seeds["p"],
        "system_undertrained": any(undertrained(r) for r in other),
    }
    if seeds and all("per_sentence" in run for run in [*ours_common, *other_common]):
        boot = paired_bootstrap(ours_common, other_common, samples, seed)
    else:  # no common seed, or runs from before per-sentence counts were recorded
        boot = {"sentences": None, "samples": None, "delta": None, "ci_low": None, "ci_high": None, "p": None}
    return row | {
        "sentences": boot["sentences"],
        "bootstrap_samples": boot["samples"],
        "delta_bootstrap": boot["delta"],
        "ci_low": boot["ci_low"],
        "ci_high": boot["ci_high"],
        "p_bootstrap": boot["p"],
    }


SIGNIFICANCE_COLUMNS = [
    "corpus",
    "method",
    "system",
    "seeds",
    "f1_entity_bert",
    "f1_system",
    "delta_f1",
    "t_statistic",
    "p_seeds",
    "system_undertrained",
    "sentences",
    "bootstrap_samples",
    "delta_bootstrap",
    "ci_low",
    "ci_high",
    "p_bootstrap",
]


def _corpora(runs: list[dict]) -> list[str]:
    return list(dict.fromkeys(run["corpus"] for run in runs))


def significance_table(
    runs: list[dict], samples: int, seed: int, corpora: list[str] | None = None
) -> pd.DataFrame:
    """Entity-BERT against every other system, per corpus (``corpora``: order; default: as in ``runs``).

    Across seeds: F1 means over the seeds both systems ran (``seeds``), their
    difference (Entity-BERT minus the system) and the paired t-test
    (``t_statistic``, ``p_seeds``; blank below two seeds). Over test
    sentences: the paired bootstrap, on the runs of those same seeds and the
    sentences all of them scored
    (``sentences``), its observed difference, 95% interval and p-value
    (:func:`entity_bert.scoring.significance.paired_bootstrap`).
    """
    rows = []
    for corpus in corpora or _corpora(runs):
        groups = {system: chosen for _, system, chosen in _groups(runs, [corpus])}
        if OURS not in groups:
            continue
        for system, chosen in groups.items():
            if system != OURS:
                rows.append(_significance_row(corpus, groups[OURS], chosen, samples, seed))
    return pd.DataFrame(rows, columns=SIGNIFICANCE_COLUMNS)


def headline_metrics(runs: list[dict]) -> dict:
    """``{corpus: {system: {...}}}``: means over seeds of the headline decoding's figures.

    ``f1``, ``precision``, ``recall`` (seqeval strict IOB2), ``f1_std`` (the
    sample standard deviation, None for a single seed), ``accuracy`` (token
    accuracy), ``conlleval_f1``, ``per_type_f1`` and ``per_type_conlleval_f1``
    ({type: mean F1}), ``invalid_transitions`` (mean count), ``decode`` and
    ``seeds``. Runs scored before conlleval was recorded leave those keys out.
    """
    metrics: dict[str, dict] = {}
    for corpus, system, chosen in _groups(runs, sorted(_corpora(runs))):
        row = _quality_row(corpus, system, chosen)
        entry = {
            "f1": row["f1_mean"],
            "f1_std": row["f1_std"],
            "precision": row["precision_mean"],
            "recall": row["recall_mean"],
            "accuracy": row["accuracy_mean"],
            "seeds": len(chosen),
            "decode": chosen[0].get("decode"),
        }
        if all("conlleval" in run for run in chosen):
            entry |= {
                "conlleval_f1": float(np.mean([run["conlleval"]["micro"]["f1"] for run in chosen])),
                "per_type_f1": _per_type_means([run["scores"] for run in chosen]),
                "per_type_conlleval_f1": _per_type_means([run["conlleval"] for run in chosen]),
                "invalid_transitions": float(np.mean([run["invalid_transitions"] for run in chosen])),
            }
        metrics.setdefault(corpus, {})[system] = entry
    return metrics


def _per_type_means(scores: list[dict]) -> dict[str, float]:
    types = sorted({kind for one in scores for kind in one["per_type"]})
    absent = {"f1": 0.0}  # a type a run neither predicted nor had in its gold
    means = {kind: [one["per_type"].get(kind, absent)["f1"] for one in scores] for kind in types}
    return {kind: float(np.mean(values)) for kind, values in means.items()}


DECODING_SYSTEMS = ("entity-bert", "bert")  # the softmax heads of Tables 2-5: where decoding matters
DECODING_COLUMNS = [
    "corpus",
    "method",
    "system",
    "seeds",
    "argmax_strict_f1",
    "argmax_conlleval_f1",
    "constrained_strict_f1",
    "constrained_conlleval_f1",
    "argmax_invalid_transitions",
    "sentences",
    "delta_bootstrap",
    "ci_low",
    "ci_high",
    "p_bootstrap",
    "significant",
]


def _decoding_row(corpus: str, system: str, chosen: list[dict], samples: int, seed: int) -> dict:
    argmax = [with_decoding(run, "argmax") for run in chosen]
    constrained = [with_decoding(run, "constrained") for run in chosen]

    def mean(runs: list[dict], scorer: str) -> float:
        return float(np.mean([run[scorer]["micro"]["f1"] for run in runs]))

    boot = paired_bootstrap(constrained, argmax, samples, seed)  # strict F1: constrained minus argmax
    return {
        "corpus": corpus,
        "method": TABLE_SYSTEMS[system],
        "system": system,
        "seeds": " ".join(str(run["seed"]) for run in chosen),
        "argmax_strict_f1": mean(argmax, "scores"),
        "argmax_conlleval_f1": mean(argmax, "conlleval"),
        "constrained_strict_f1": mean(constrained, "scores"),
        "constrained_conlleval_f1": mean(constrained, "conlleval"),
        "argmax_invalid_transitions": float(np.mean([run["invalid_transitions"] for run in argmax])),
        "sentences": boot["sentences"],
        "delta_bootstrap": boot["delta"],
        "ci_low": boot["ci_low"],
        "ci_high": boot["ci_high"],
        "p_bootstrap": boot["p"],
        "significant": boot["p"] is not None and boot["p"] < SIGNIFICANCE_LEVEL,
    }


SIGNIFICANCE_LEVEL = 0.05


def decoding_table(runs: list[dict], corpora: list[str], samples: int, seed: int) -> pd.DataFrame:
    """Entity-BERT and BERT per corpus: argmax against constrained decoding, strict and conlleval F1.

    Means over seeds; the paired bootstrap (over test sentences, strict F1,
    constrained minus argmax) says whether the two decodings differ
    (``significant``: p below 0.05). Runs scored before both decodings were
    recorded are left out.
    """
    rows = []
    for corpus, system, chosen in _groups(runs, corpora):
        if system in DECODING_SYSTEMS and all("decodings" in run for run in chosen):
            rows.append(_decoding_row(corpus, system, chosen, samples, seed))
    return pd.DataFrame(rows, columns=DECODING_COLUMNS)


CELL_COLUMNS = [
    "corpus",
    "system",
    "seeds done",
    "seeds missing",
    "training h",
    "gpu h",
    "precision",
    "device",
    "torch",
    "cpu",
    "matmul_gflops_fp32",
]


def cells_table(runs: list[dict], corpora: list[str], systems: list[str], seeds: list[int]) -> pd.DataFrame:
    """Every (corpus, system) the profile asks for: which seeds ran, which are missing, and on what.

    ``training h`` is the measured training time of the seeds done, summed
    (each run's ``efficiency.training_s``: training and dev scoring; a run
    resumed after an interruption counts the epochs it saved, not the one cut
    short); ``gpu h`` is the part of it trained on a GPU. ``precision``,
    ``device`` (with the GPU's name), ``torch`` (its version), ``cpu`` and the matmul rate
    come from each run's ``environment`` (blank for runs that predate them):
    timings from different machines are not comparable, so the report says
    where each cell ran.
    """
    rows = []
    for corpus in corpora:
        for system in systems:
            chosen = [r for r in runs if r["corpus"] == corpus and system_of(r) == system]
            done = sorted(r["seed"] for r in chosen)
            environments = [r.get("environment", {}) for r in chosen]
            rates = [e["matmul_gflops_fp32"] for e in environments if "matmul_gflops_fp32" in e]
            on_gpu = [r for r, e in zip(chosen, environments, strict=True) if e.get("device") == "cuda"]
            rows.append(
                {
                    "corpus": corpus,
                    "system": system,
                    "seeds done": " ".join(map(str, done)),
                    "seeds missing": " ".join(str(s) for s in seeds if s not in done),
                    "training h": _hours(chosen) if chosen else None,
                    "gpu h": _hours(on_gpu) if on_gpu else None,
                    "precision": _span([e.get("precision", "") for e in environments]) if chosen else "",
                    "device": _span([_device(e) for e in environments]) if chosen else "",
                    "torch": _distinct(environments, "torch"),
                    "cpu": _distinct(environments, "cpu"),
                    "matmul_gflops_fp32": _span(sorted(round(r) for r in rates)) if rates else "",
                }
            )
    return pd.DataFrame(rows, columns=CELL_COLUMNS)


def _hours(runs: list[dict]) -> float:
    return round(sum(r["efficiency"]["training_s"] for r in runs) / 3600, 2)


def _distinct(environments: list[dict], key: str) -> str:
    """The distinct values of ``key`` the runs recorded, "; "-joined (blank if none did)."""
    return "; ".join(sorted({e.get(key, "") for e in environments} - {""}))


def _device(environment: dict) -> str:
    """``cpu``, or ``cuda (<the GPU's name>)``."""
    device = environment.get("device", "")
    return f"{device} ({environment['gpu']})" if environment.get("gpu") else device


def _compute_line(frame: pd.DataFrame) -> str:
    """The measured training time of the cells done, per system and in all, and how much of it on a GPU."""
    total, systems = _hours_by_system(frame, "training h")
    if systems is None:
        return "No training time measured yet."
    line = f"Training time measured so far: {total:.2f} h in all ({systems})."
    gpu, systems = _hours_by_system(frame, "gpu h")
    if systems is None:
        return line
    return f"{line} Of that, {gpu:.2f} h ran on a GPU ({systems}): not comparable with the CPU's hours."


def _hours_by_system(frame: pd.DataFrame, column: str) -> tuple[float, str | None]:
    """The column's sum, and "system N h, ..." (None where no row has hours)."""
    hours = frame.dropna(subset=[column]).groupby("system", sort=False)[column].sum()
    text = ", ".join(f"{system} {h:.2f} h" for system, h in hours.items()) if not hours.empty else None
    return hours.sum(), text


def seed_count(column: pd.Series) -> int:
    """How many seeds a column of space-separated seed lists names (blank cells name none)."""
    return int(sum(len(str(seeds).split()) for seeds in column.dropna()))


def _cells_page(frame: pd.DataFrame) -> str:
    done = seed_count(frame["seeds done"])
    total = done + seed_count(frame["seeds missing"])
    return "\n".join(
        [
            "# Cells: the profile's training runs, done and missing",
            "",
            f"**{done} of {total} training cells done** (corpus x system x seed). A missing cell is shown as "
            "missing here and left out of the other tables; means and tests use the seeds that ran. "
            "`training h` sums the seeds done (training with dev scoring), `gpu h` the part on a GPU; "
            "`device`, `cpu` and `matmul_gflops_fp32` (a 1024x1024 fp32 matrix product on the run's "
            "threads) say where each cell ran, `torch` with which PyTorch: times from different machines "
            "are not comparable.",
            "",
            _compute_line(frame),
            "",
            markdown_table(frame) if not frame.empty else "_No cells in this profile._",
            "",
        ]
    )


def _settings_table(runs: list[dict], corpora: list[str]) -> pd.DataFrame:
    """How each (corpus, system)'s runs were made, from their configs."""
    rows = []
    for corpus, system, chosen in _groups(runs, corpora):
        rows.append(
            {
                "corpus": corpus,
                "system": system,
                "regime": _span([r["config"].get("regime", r.get("regime")) for r in chosen]),
                "label set": _span([r["label_set"] for r in chosen]),
                "epochs (max)": _span([r["config"].get("epochs") for r in chosen]),
                "epochs run": _span([r.get("epochs_run") for r in chosen]),
                "train sentences": _span([r["config"].get("max_train_sentences") or "all" for r in chosen]),
                "test sentences scored": _span([_scored(r) for r in chosen]),
                "decoding": _span([r.get("decode", "argmax") for r in chosen]),
                "seeds": " ".join(str(r["seed"]) for r in chosen),
            }
        )
    return pd.DataFrame(rows)


def _stand_ins(corpora: list[str]) -> pd.DataFrame:
    registry = corpus_sources()
    rows = [
        {
            "corpus": c,
            "title": registry.get(c, {}).get("title", ""),
            "stands in for (and why)": registry.get(c, {}).get("stands_in_for", ""),
        }
        for c in corpora
    ]
    return pd.DataFrame(rows, columns=["corpus", "title", "stands in for (and why)"])


def _split(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Measured rows and claimed rows for Markdown, without empty columns (stand-ins get their own table)."""
    measured = frame[frame.source == "measured"].drop(columns=["source", "stands_in_for"])
    measured = measured.dropna(axis=1, how="all")  # e.g. parameters_as_printed, the paper's only
    claimed = frame[frame.source != "measured"].drop(columns=["source", "stands_in_for", "system", "seeds"])
    return measured, claimed.dropna(axis=1, how="all")


def _page(
    title: str,
    intro: str,
    frame: pd.DataFrame,
    runs: list[dict],
    corpora: list[str],
    claim_note: str,
    table: int,
) -> str:
    measured, claimed = _split(frame)
    body = markdown_table(measured.round(4)) if corpora else "No runs of these corpora yet: nothing measured."
    lines = [title, "", intro, "", body, ""]
    if corpora:
        lines += [
            "## How the runs were made (from their configs)",
            "",
            markdown_table(_settings_table(runs, corpora)),
            "",
        ]
    lines += ["## Which paper dataset each corpus stands in for, and why", ""]
    lines += [markdown_table(_stand_ins(corpora)) if corpora else "No corpora.", ""]
    lines += [
        f"## The paper's Table {table} (claimed: {CITATION})",
        "",
        claim_note,
        "",
        markdown_table(claimed),
        "",
    ]
    return "\n".join(lines)


QUALITY_INTRO = (
    "Measured on each corpus's test split (the sentences scored are counted in `test_sentences`): mean and "
    "standard deviation (ddof 1; blank for one seed) over the seeds listed. Precision, recall and F1 are "
    "entity-level (seqeval strict, IOB2, micro) of the tags decoded as the profile's `study.decode` says "
    "(`decoding.md`: constrained to valid IOB2, or each word's argmax); accuracy is token accuracy over all "
    "tokens, O included "
    '(the paper\'s "Accuracy"). Regime, epochs and train/test sentences of each system are listed below.'
)
EFFICIENCY_INTRO = (
    "Measured per run and averaged over the seeds listed: parameters in millions (every weight of the "
    "deployed model, the encoder included) and trainable ones; GFLOPs of one forward pass on a sentence of "
    "the test split's mean length; inference latency in ms per sentence at batch size 1 (with its standard "
    "deviation over seeds) and throughput in sentences per second at the evaluation batch size, on the "
    "device listed; training wall-clock seconds. Wall-clock figures compare within one machine only."
)
CLAIM_NOTE = "On the paper's datasets, which cannot be used here; these numbers are the paper's, not ours."
PARAMETER_NOTE = (
    "The paper prints parameters without a unit (`parameters_as_printed`, e.g. 340.29 for Entity-BERT); "
    "they are shown exactly as printed and are not comparable with our millions."
)


def _significance_page(frame: pd.DataFrame, samples: int, seed: int) -> str:
    return "\n".join(
        [
            "# Significance: Entity-BERT against each other system",
            "",
            "Test-split micro F1 (seqeval strict, IOB2). Across seeds: means over the seeds both systems "
            "ran, delta_f1 = Entity-BERT minus the system, and the paired t-test over those seeds "
            "(t_statistic, p_seeds; blank below two seeds or when the differences do not vary). Over test "
            f"sentences: the paired bootstrap (Koehn 2004; Berg-Kirkpatrick et al. 2012), {samples} "
            f"resamples (seed {seed}) of the sentences every run of both systems scored (`sentences`), each "
            "system's F1 averaged over the seeds both ran (`seeds`); delta_bootstrap is the observed "
            "difference on those sentences, ci_low/ci_high its 95% percentile interval, p_bootstrap = "
            "min(1, 2 min(P(delta* <= 0), P(delta* >= 0))). The bootstrap speaks to the choice of test "
            "sentences, the t-test to the choice of training seeds.",
            "",
            markdown_table(frame.round(4))
            if len(frame)
            else "No corpus has runs of Entity-BERT and another system.",
            "",
        ]
    )


def _decoding_summary(frame: pd.DataFrame) -> str:
    """One sentence of what the table measured, computed from it."""
    if not len(frame):
        return "No corpus has runs scored under both decodings."
    change = 100 * (frame.constrained_strict_f1 - frame.argmax_strict_f1)
    agree = 100 * (frame.constrained_strict_f1 - frame.constrained_conlleval_f1).abs().max()
    return (
        f"Constrained decoding changes strict F1 by {change.min():+.2f} to {change.max():+.2f} points; the "
        f"difference is significant (paired bootstrap, p < {SIGNIFICANCE_LEVEL}) for "
        f"{int(frame.significant.sum())} of {len(frame)} (corpus, system) pairs. Under it the strict and "
        f"conlleval readings differ by at most {agree:.2f} points; under argmax by up to "
        f"{100 * (frame.argmax_strict_f1 - frame.argmax_conlleval_f1).abs().max():.2f} points."
    )


def _decoding_page(frame: pd.DataFrame, decode: str, samples: int, seed: int) -> str:
    return "\n".join(
        [
            "# Decoding: each word's argmax against the most probable valid IOB2 sequence",
            "",
            "A softmax head scores each word on its own; its argmax may emit an `I-X` that continues "
            "nothing. Strict seqeval (IOB2) drops such a tag, conlleval (the CoNLL script most published "
            "figures use) starts an entity there, so the two scorers disagree. Constrained decoding "
            "(Viterbi over the per-word log-probabilities, with the IOB2 transitions allowed) emits valid "
            "IOB2 only, and both scorers then agree exactly. Every run is trained once and scored both "
            "ways; the profile's `study.decode` picks the decoding of Tables 2-6, the significance tests, "
            f"the metrics and the recogniser: here **{decode}**. The default is constrained: every entity "
            "a model reports is then one both scorers read alike, so our figures can stand beside "
            "published conlleval figures, and the recogniser never emits a stray `I-` tag.",
            "",
            "F1 (test split, micro, mean over seeds) of Entity-BERT and BERT; argmax_invalid_transitions: "
            "the mean count of invalid `I-` tags under argmax. Paired bootstrap (strict F1, constrained "
            f"minus argmax, {samples} resamples, seed {seed}) over the test sentences every run scored; "
            f"significant: p_bootstrap < {SIGNIFICANCE_LEVEL}.",
            "",
            _decoding_summary(frame),
            "",
            markdown_table(frame.round(4)) if len(frame) else "",
            "",
        ]
    )


def _write(stem: Path, frame: pd.DataFrame, page: str) -> None:
    """``<stem>.csv`` (full precision) and ``<stem>.md``."""
    atomic_write_text(stem.with_name(f"{stem.name}.csv"), frame.to_csv(index=False))
    atomic_write_text(stem.with_name(f"{stem.name}.md"), page)


def write_study_tables(
    runs: list[dict],
    groups: dict[str, list[str]],
    tables_dir: str | Path,
    metrics_path: str | Path,
    bootstrap_samples: int = 1000,
    bootstrap_seed: int = 13,
    metrics_dir: str | Path | None = None,
    decode: str = "constrained",
    expected: dict | None = None,
) -> None:
    """Write Tables 2-5, the significance and decoding tables (CSV and Markdown) and the metrics JSON.

    Tables 2-5, the significance tests and the metrics read each run's
    ``decode`` decoding (:func:`entity_bert.scoring.metrics.with_decoding`);
    the decoding table reads both.

    With ``metrics_dir``, also one small file per corpus and system there
    (:func:`write_metric_cells`), the metrics DVC shows. With ``expected``
    (the profile's ``corpora``, ``systems`` and ``seeds``), also the cells
    table: which of them ran and which are missing (:func:`cells_table`).

    ``groups["table2"]`` names the corpora of Tables 2 and 4, ``groups["table3"]``
    those of Tables 3 and 5; corpora without runs are left out.
    """
    scored = _study_runs(runs)
    runs = [with_decoding(run, decode) for run in scored]
    present = set(_corpora(runs))
    out = Path(tables_dir)
    ordered: list[str] = []
    for key, (quality, efficiency) in (("table2", (2, 4)), ("table3", (3, 5))):
        corpora = [c for c in groups.get(key, []) if c in present]
        ordered += corpora
        names = ", ".join(corpora) or "no corpora"
        frame = quality_table(runs, corpora, quality)
        page = _page(
            f"# Table {quality}: quality ({names})", QUALITY_INTRO, frame, runs, corpora, CLAIM_NOTE, quality
        )
        _write(out / f"table{quality}_quality", frame, page)
        frame = efficiency_table(runs, corpora, efficiency)
        page = _page(
            f"# Table {efficiency}: efficiency ({names})",
            EFFICIENCY_INTRO,
            frame,
            runs,
            corpora,
            f"{CLAIM_NOTE} {PARAMETER_NOTE}",
            efficiency,
        )
        _write(out / f"table{efficiency}_efficiency", frame, page)
    ordered += [c for c in _corpora(runs) if c not in ordered]
    frame = significance_table(runs, bootstrap_samples, bootstrap_seed, ordered)
    _write(out / "significance", frame, _significance_page(frame, bootstrap_samples, bootstrap_seed))
    frame = decoding_table(scored, ordered, bootstrap_samples, bootstrap_seed)
    _write(out / "decoding", frame, _decoding_page(frame, decode, bootstrap_samples, bootstrap_seed))
    if expected is not None:
        frame = cells_table(scored, expected["corpora"], expected["systems"], expected["seeds"])
        _write(out / "cells", frame, _cells_page(frame))
    metrics = headline_metrics(runs)
    atomic_write_text(metrics_path, json.dumps(metrics, indent=1) + "\n")
    if metrics_dir is not None:
        write_metric_cells(metrics, metrics_dir)


CELL_METRICS = ("f1", "precision", "recall")


def write_metric_cells(metrics: dict, folder: str | Path) -> None:
    """``<folder>/<corpus>/<system>.json``: mean F1, precision and recall over seeds.

    ``dvc metrics show`` prints one row per file, so one small file per corpus
    and system keeps it within 80 columns; the profile's ``metrics.json`` holds
    the same means with their standard deviations, token accuracy and seeds.
    """
    with atomic_directory(Path(folder)) as tmp:
        for corpus, systems in metrics.items():
            (tmp / corpus).mkdir()
            for system, means in systems.items():
                cell = {key: means[key] for key in CELL_METRICS}
                (tmp / corpus / f"{system}.json").write_text(json.dumps(cell, indent=1) + "\n", "utf-8")
