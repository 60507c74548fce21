"""The paper's claims checked against the study's tables: one :class:`Verdict` per claim.

Each ``claim_*`` function reads the study's CSV tables (as pandas frames,
``None`` when a profile did not produce one) and the paper's numbers (the
claims data of :mod:`entity_bert.report.claims`), and returns the claim, the paper's
figure, ours, a verdict computed from them, and the small table behind it.
Nothing here is typed in: every number comes from a table or the claims data.

Verdict words: ``reproduced`` (holds wherever it could be tested),
``not reproduced`` (holds nowhere), ``partly (k of n <unit>)``, and
``not testable here`` (nothing measured to test it on). A verdict drawn while
some of the runs it rests on are missing is *provisional* and says how many
are done (:attr:`Verdict.stated`): the cells table counts the training cells,
the profile's ablation and grid settings count Table 6's runs and the grid's
points. :mod:`entity_bert.report.page` writes them into ``results/REPORT.md``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import pandas as pd

from entity_bert.models.registry import SYSTEM_METHODS
from entity_bert.report.claims import claimed_protocol, claimed_table
from entity_bert.report.study_tables import TIMED_COLUMNS, seed_count

ENTITY_BERT = "entity-bert"
PAPER_ENTITY_BERT = "Entity-BERT (ours)"
EFFICIENCY_MEASURES = {  # our column -> (the paper's column, reading)
    "parameters_m_mean": ("parameters_as_printed", "parameters"),
    "flops_g_mean": ("flops_g", "FLOPs"),
    "inference_ms_mean": ("inference_ms", "inference time"),
    "training_s_mean": ("training_s", "training time"),
}
GRID_KEYS = {"lr": "learning_rate", "hidden": "hidden_units", "batch_size": "batch_size", "epochs": "epochs"}
ALPHA = 0.05
REPRODUCED, NOT_REPRODUCED, NOT_TESTABLE = "reproduced", "not reproduced", "not testable here"


@dataclass
class Verdict:
    """One claim of the paper, its figure, ours, the verdict and the table behind it."""

    number: int
    claim: str
    where: str  # where the paper makes the claim
    paper: str
    ours: str
    verdict: str
    details: pd.DataFrame = field(default_factory=pd.DataFrame)
    note: str = ""
    runs: tuple[int, int, str] | None = None  # (done, asked, what they are): the runs it rests on

    @property
    def reproduced(self) -> bool:
        return self.verdict == REPRODUCED

    @property
    def tested(self) -> bool:
        return self.verdict != NOT_TESTABLE

    @property
    def provisional(self) -> bool:
        """Tested while some of the runs it rests on are still missing: it may change as they finish."""
        return self.tested and self.runs is not None and self.runs[0] < self.runs[1]

    @property
    def stated(self) -> str:
        """The verdict as the report writes it: with "provisional: N of M <runs> done" where it is."""
        if not self.provisional:
            return self.verdict
        done, asked, unit = self.runs
        return f"{self.verdict} (provisional: {done} of {asked} {unit} done)"


def verdict_word(passed: int, total: int, unit: str = "corpora") -> str:
    """``reproduced`` if all ``total`` cases pass, ``not reproduced`` if none, else ``partly (k of n)``."""
    if total == 0:
        return NOT_TESTABLE
    if passed == total:
        return REPRODUCED
    if passed == 0:
        return NOT_REPRODUCED
    return f"partly ({passed} of {total} {unit})"


def measured(frame: pd.DataFrame | None) -> pd.DataFrame:
    """The measured rows of a study table (none for a missing table)."""
    if frame is None or frame.empty or "source" not in frame:
        return pd.DataFrame()
    return frame[frame["source"] == "measured"].reset_index(drop=True)


def _measured_quality(quality: list[pd.DataFrame | None]) -> pd.DataFrame:
    parts = [measured(frame) for frame in quality]
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _fmt(value: float) -> str:
    return "" if pd.isna(value) else f"{value:.4f}"


def _claimed_quality() -> pd.DataFrame:
    return claimed_table("table2_3_quality")


def claim_precision_recall(quality: list[pd.DataFrame | None]) -> Verdict:
    """Claim 1: Entity-BERT's precision and recall are about 0.96-0.98 (the paper's lowest is the bar)."""
    paper = _claimed_quality()
    paper = paper[paper.method == PAPER_ENTITY_BERT]
    values = pd.concat([paper.precision, paper.recall])
    low, high = values.min(), values.max()
    ours = _measured_quality(quality)
    rows = []
    if not ours.empty:
        for row in ours[ours.system == ENTITY_BERT].itertuples():
            rows.append(
                {
                    "corpus": row.corpus,
                    "stands in for": row.stands_in_for,
                    "precision": row.precision_mean,
                    "recall": row.recall_mean,
                    "paper's lowest": low,
                    "at least the paper's lowest": bool(min(row.precision_mean, row.recall_mean) >= low),
                }
            )
    details = pd.DataFrame(rows)
    passed = int(details["at least the paper's lowest"].sum()) if rows else 0
    tables = " and ".join(f"Table {t}" for t in sorted(paper.table.unique()))
    return Verdict(
        number=1,
        claim="Entity-BERT reaches precision and recall of about 0.96-0.98",
        where=tables,
        paper=f"P and R {_fmt(low)}-{_fmt(high)} on {paper.dataset.nunique()} datasets",
        ours="; ".join(f"{r['corpus']}: P {_fmt(r['precision'])}, R {_fmt(r['recall'])}" for r in rows)
        or "not measured in this profile",
        verdict=verdict_word(passed, len(rows)),
        details=details,
        note=f"Reproduced on a corpus only if both our precision and recall reach the paper's lowest "
        f"figure ({_fmt(low)}).",
    )


UNDERTRAINED_NOTE = (
    "A system is undertrained on a corpus when a run of it stopped at the profile's epoch cap while its dev "
    "F1 was still at its best, or never scored above 0 on dev (`undertrained` in the quality tables): "
    "its number then measures the profile's budget, not the method, and a win against it says little."
)


def _undertrained_systems(frame: pd.DataFrame) -> list[str]:
    if "undertrained" not in frame:
        return []
    flagged = frame[frame["undertrained"].astype(bool)]
    return [str(s) for s in flagged.system]


def _compared(tables: list[pd.DataFrame | None]) -> Iterator[tuple[str, pd.DataFrame, pd.DataFrame]]:
    """Each corpus with Entity-BERT and another paper system measured: (corpus, rows, Entity-BERT's).

    The reference row (Hugging Face's recipe) checks our harness; it is not one
    of the paper's comparison systems, so no claim counts it.
    """
    ours = _measured_quality(tables)
    if ours.empty:
        return
    ours = ours[ours.system.isin(list(SYSTEM_METHODS))]
    for corpus, frame in ours.groupby("corpus", sort=False):
        mine = frame[frame.system == ENTITY_BERT]
        if not mine.empty and len(frame) >= 2:
            yield corpus, frame, mine


def _best_other(frame: pd.DataFrame, column: str) -> tuple[float, str]:
    others = frame[frame.system != ENTITY_BERT]
    best = others.loc[others[column].idxmax()]
    return best[column], best.method


def _paper_highest() -> tuple[int, int]:
    """On how many of the paper's datasets its Entity-BERT has the highest P and R (and of how many)."""
    paper = _claimed_quality()
    highest = 0
    for _, frame in paper.groupby("dataset"):
        ours = frame[frame.method == PAPER_ENTITY_BERT].iloc[0]
        others = frame[frame.method != PAPER_ENTITY_BERT]
        highest += bool(ours.precision >= others.precision.max() and ours.recall >= others.recall.max())
    return highest, paper.dataset.nunique()


def claim_highest_quality(quality: list[pd.DataFrame | None]) -> Verdict:
    """Claim 2: Entity-BERT has the highest precision and recall of all systems on every dataset."""
    rows = []
    for corpus, frame, mine in _compared(quality):
        precision, recall = mine.precision_mean.iloc[0], mine.recall_mean.iloc[0]
        other_p, by_p = _best_other(frame, "precision_mean")
        other_r, by_r = _best_other(frame, "recall_mean")
        rows.append(
            {
                "corpus": corpus,
                "systems": len(frame),
                "Entity-BERT P": precision,
                "best other P": other_p,
                "best other P by": by_p,
                "Entity-BERT R": recall,
                "best other R": other_r,
                "best other R by": by_r,
                "highest P and R": bool(precision >= other_p and recall >= other_r),
                "undertrained systems": ", ".join(_undertrained_systems(frame)),
            }
        )
    details = pd.DataFrame(rows)
    passed = int(details["highest P and R"].sum()) if rows else 0
    paper_k, paper_n = _paper_highest()
    return Verdict(
        number=2,
        claim="Entity-BERT has the highest precision and recall of all systems on every dataset",
        where="Tables 2-3",
        paper=f"highest P and R on {paper_k} of {paper_n} datasets",
        ours=f"highest P and R on {passed} of {len(rows)} corpora"
        if rows
        else "not measured in this profile",
        verdict=verdict_word(passed, len(rows)),
        details=details,
        note="Compared on the mean over seeds; only corpora with at least one other system measured count. "
        + UNDERTRAINED_NOTE,
    )


def claim_significance(significance: pd.DataFrame | None) -> Verdict:
    """Claim 3: Entity-BERT is significantly better than each comparison system (paired bootstrap)."""
    tests = ", ".join(claimed_protocol().get("significance", []))
    rows = []
    if significance is not None and not significance.empty:
        for row in significance.itertuples():
            if row.method not in SYSTEM_METHODS.values():  # the reference row: not a claim's comparison
                continue
            delta = row.delta_bootstrap if pd.notna(row.delta_bootstrap) else row.delta_f1
            rows.append(
                {
                    "corpus": row.corpus,
                    "against": row.method,
                    "delta F1": delta,
                    "95% CI": f"[{_fmt(row.ci_low)}, {_fmt(row.ci_high)}]",
                    "p (bootstrap)": row.p_bootstrap,
                    "p (t-test over seeds)": row.p_seeds,
                    "significantly better": bool(delta > 0 and row.p_bootstrap < ALPHA),
                    "against an undertrained system": bool(getattr(row, "system_undertrained", False)),
                }
            )
    details = pd.DataFrame(rows)
    passed = int(details["significantly better"].sum()) if rows else 0
    fair = details[~details["against an undertrained system"]] if rows else details
    fair_passed = int(fair["significantly better"].sum()) if rows else 0
    return Verdict(
        number=3,
        claim="Entity-BERT is significantly better than each comparison system",
        where="implied throughout; section 4.2 names tests",
        paper=f"no test result reported (section 4.2 names: {tests})" if tests else "no test result reported",
        ours=f"better with p < {ALPHA} in {passed} of {len(rows)} comparisons "
        f"({fair_passed} of {len(fair)} against systems trained to a stop)"
        if rows
        else "not measured",
        verdict=verdict_word(passed, len(rows), "comparisons"),
        details=details,
        note=f"Significantly better: delta F1 > 0 and two-sided paired-bootstrap p < {ALPHA} over the test "
        "sentences both systems scored. " + UNDERTRAINED_NOTE,
    )


def _paper_smallest() -> tuple[int, int]:
    paper = claimed_table("table4_5_efficiency")
    smallest = total = 0
    for _, frame in paper.groupby("dataset"):
        ours = frame[frame.method == PAPER_ENTITY_BERT].iloc[0]
        for column, _reading in EFFICIENCY_MEASURES.values():
            total += 1
            smallest += bool(ours[column] <= frame[column].min())
    return smallest, total


def claim_efficiency(efficiency: list[pd.DataFrame | None]) -> Verdict:
    """Claim 4: Entity-BERT has the fewest parameters and FLOPs and the shortest inference and training."""
    rows = []
    for corpus, frame, mine in _compared(efficiency):
        for column, (_paper_column, reading) in EFFICIENCY_MEASURES.items():
            others = frame[(frame.system != ENTITY_BERT) & frame[column].notna()]
            if column in TIMED_COLUMNS:  # a GPU's minutes against a CPU's hours say nothing about the method
                others = others[others.device == mine.device.iloc[0]]
            value = mine[column].iloc[0]
            if others.empty or pd.isna(value):
                continue
            best = others.loc[others[column].idxmin()]
            rows.append(
                {
                    "corpus": corpus,
                    "measure": reading,
                    "Entity-BERT": value,
                    "smallest other": best[column],
                    "smallest other by": best.method,
                    "Entity-BERT smallest": bool(value <= best[column]),
                }
            )
    details = pd.DataFrame(rows)
    paper_k, paper_n = _paper_smallest()
    passed = int(details["Entity-BERT smallest"].sum()) if rows else 0
    summary = []
    if rows:
        for reading, frame in details.groupby("measure", sort=False):
            summary.append(
                f"{reading}: smallest on {int(frame['Entity-BERT smallest'].sum())} of {len(frame)}"
            )
    return Verdict(
        number=4,
        claim="Entity-BERT has the fewest parameters and FLOPs and the shortest inference and training time",
        where="Tables 4-5",
        paper=f"smallest in {paper_k} of {paper_n} (dataset, measure) pairs",
        ours="; ".join(summary) or "not measured in this profile",
        verdict=verdict_word(passed, len(rows), "(corpus, measure) pairs"),
        details=details,
        note="Parameters count every weight, a frozen encoder's included; the paper prints parameters "
        "without a unit. Inference and training times are compared only with systems whose runs used the "
        "same device as Entity-BERT's (the tables' `device` column).",
    )


def _lstm_beats(frame: pd.DataFrame, lstm: pd.Series, corpus: str) -> list[dict]:
    rows = []
    others = frame.drop(index=lstm.name)
    for metric in ("precision", "recall", "accuracy"):
        best = others.loc[others[f"{metric}_mean"].idxmax()]
        difference = lstm[f"{metric}_mean"] - best[f"{metric}_mean"]
        rows.append(
            {
                "corpus": corpus,
                "measure": metric,
                "LSTM": lstm[f"{metric}_mean"],
                "best other": best[f"{metric}_mean"],
                "best other cell": best.method,
                "difference": difference,
                "within seed spread": _within_spread(difference, lstm, best, metric),
                "LSTM higher": bool(difference > 0),
            }
        )
    return rows


def _within_spread(difference: float, lstm: pd.Series, best: pd.Series, metric: str) -> bool:
    """Whether |difference| is below the larger of the two cells' standard deviations over seeds.

    False where no standard deviation is known (the paper's table, or a single seed).
    """
    spreads = pd.Series([row.get(f"{metric}_std") for row in (lstm, best)], dtype=float).dropna()
    return not spreads.empty and bool(abs(difference) < spreads.max())


def _rnn_rows(frame: pd.DataFrame) -> list[dict]:
    rows = []
    if frame.empty:
        return rows
    for corpus, part in frame.groupby("corpus", sort=False):
        lstm = part[part.method.str.contains("LSTM")]
        if lstm.empty or len(part) < 2:
            continue
        rows += _lstm_beats(part, lstm.iloc[0], corpus)
    return rows


def _corpora_passed(details: pd.DataFrame, column: str) -> tuple[int, int]:
    if details.empty:
        return 0, 0
    per_corpus = details.groupby("corpus")[column].all()
    return int(per_corpus.sum()), len(per_corpus)


def claim_rnn_ablation(table6: pd.DataFrame | None) -> Verdict:
    """Claim 5: the LSTM beats GRU, SRU, IndRNN and gated-feedback RNN on P, R and accuracy."""
    paper = claimed_table("table6_rnn_ablation").rename(
        columns={m: f"{m}_mean" for m in ("precision", "recall", "accuracy")}
    )
    paper_k, paper_n = _corpora_passed(
        pd.DataFrame(_rnn_rows(paper.rename(columns={"dataset": "corpus"}))), "LSTM higher"
    )
    details = pd.DataFrame(_rnn_rows(measured(table6)))
    passed, total = _corpora_passed(details, "LSTM higher")
    ours = "not measured in this profile"
    if total:
        ours = "; ".join(_rnn_summary(corpus, part) for corpus, part in details.groupby("corpus", sort=False))
    return Verdict(
        number=5,
        claim="The LSTM beats GRU, SRU, IndRNN and gated-feedback RNN on precision, recall and accuracy",
        where="Table 6",
        paper=f"LSTM highest on all three on {paper_k} of {paper_n} datasets",
        ours=ours,
        verdict=verdict_word(passed, total),
        details=details,
        note="A corpus counts only if the LSTM's mean over seeds is higher than every other cell's on all "
        "three measures. `within seed spread` marks a difference smaller than the larger of the two cells' "
        "standard deviations over seeds: a win or loss that another seed could reverse.",
    )


def _rnn_summary(corpus: str, details: pd.DataFrame) -> str:
    wins = int(details["LSTM higher"].sum())
    close = int(details["within seed spread"].sum())
    spread = f" ({close} of {len(details)} differences within the seeds' spread)" if close else ""
    return f"{corpus}: LSTM highest on {wins} of {len(details)} measures{spread}"


def _grid_keys(done: pd.DataFrame, point: dict) -> tuple[list[str], list[str]]:
    """The grid keys a verdict can test (searched, with the paper's value in the grid), and the others."""
    testable, other = [], []
    for key in GRID_KEYS:
        values = set(done[key].unique().tolist())
        (testable if len(values) > 1 and point[key] in values else other).append(key)
    return testable, other


def claim_grid_search(grid: pd.DataFrame | None, tune_settings: dict | None = None) -> Verdict:
    """Claim 6: the grid search's best point is the paper's (lr, hidden units, batch size, epochs).

    Tested on the keys our grid searches and whose paper value it contains: a
    key held fixed (or searched without the paper's value) cannot be tested.
    """
    paper_point = claimed_protocol()["lstm_grid_search_best"]
    point = {ours: paper_point[theirs] for ours, theirs in GRID_KEYS.items()}
    described = ", ".join(f"{k} {v}" for k, v in point.items())
    base = dict(number=6, claim="The grid search's best point", where="section 4.2", paper=described)
    if grid is None or grid.empty:
        return Verdict(**base, ours="not measured in this profile", verdict=NOT_TESTABLE)
    done = (grid[grid["status"] == "ok"] if "status" in grid else grid).copy()
    if done.empty:
        return Verdict(**base, ours="no grid point finished (see grid_search.md)", verdict=NOT_TESTABLE)
    done = done.sort_values("best_dev_f1", ascending=False).reset_index(drop=True)
    done.insert(0, "rank", done.best_dev_f1.rank(ascending=False, method="min").astype(int))
    testable, other = _grid_keys(done, point)
    is_paper = pd.Series(bool(testable), index=done.index)
    for key in testable:
        is_paper &= done[key] == point[key]
    done["paper's values"] = is_paper
    values = "; ".join(f"{k} {sorted(done[k].unique().tolist())}" for k in GRID_KEYS)
    best = done[done["rank"] == 1]
    ours = " or ".join(", ".join(f"{k} {row[k]}" for k in GRID_KEYS) for _, row in best.iterrows())
    ours += f" (best dev F1 {_fmt(best.best_dev_f1.iloc[0])})"
    note = f"Our grid: {len(done)} points ({values})"
    if tune_settings and tune_settings.get("corpus"):
        note += f", on {tune_settings['corpus']}"
    note += "; the paper does not give its grid."
    if other:
        note += f" Not testable here (held fixed, or the paper's value not searched): {', '.join(other)}."
    if not testable:
        verdict = NOT_TESTABLE
    else:
        rank = int(done.loc[is_paper, "rank"].min())
        verdict = REPRODUCED if rank == 1 else NOT_REPRODUCED
        paper_f1 = done.loc[is_paper, "best_dev_f1"].max()
        note += (
            f" Compared on {', '.join(testable)}: the best point with the paper's values ranks {rank} of "
            f"{len(done)} on dev F1 ({_fmt(paper_f1)}, best {_fmt(done.best_dev_f1.iloc[0])})."
        )
    head = pd.concat([done.head(5), done[is_paper & (done["rank"] > 5)].head(1)])
    return Verdict(**base, ours=ours, verdict=verdict, details=head, note=note)


def training_cells(cells: pd.DataFrame | None, system: str | None = None) -> tuple[int, int, str] | None:
    """(done, asked, unit): the profile's training cells (of one system, or all) in the cells table."""
    if cells is None or cells.empty:
        return None
    rows = cells if system is None else cells[cells.system == system]
    done = seed_count(rows["seeds done"])
    unit = "training cells" if system is None else f"{system} training cells"
    return done, done + seed_count(rows["seeds missing"]), unit


def ablation_runs(table6: pd.DataFrame | None, ablation: dict | None) -> tuple[int, int, str] | None:
    """(done, asked, unit): Table 6's runs done (its seeds column) of corpora x cells x seeds asked."""
    if not ablation:
        return None
    ours = measured(table6)
    done = seed_count(ours["seeds"]) if not ours.empty else 0
    asked = len(ablation["corpora"]) * len(ablation["cells"]) * len(ablation["seeds"])
    return done, asked, "Table 6 runs"


def grid_points(grid: pd.DataFrame | None, tune_settings: dict | None) -> tuple[int, int, str] | None:
    """(done, asked, unit): the grid's points recorded of the profile's grid."""
    if not tune_settings or not tune_settings.get("grid"):
        return None
    asked = math.prod(len(values) for values in tune_settings["grid"].values())
    return (0 if grid is None else len(grid)), asked, "grid points"


def all_verdicts(
    tables: dict[str, pd.DataFrame | None],
    tune_settings: dict | None = None,
    ablation_settings: dict | None = None,
) -> list[Verdict]:
    """The six verdicts, from the study's tables (keys: :data:`entity_bert.report.catalogue.TABLE_NAMES`).

    ``tune_settings`` and ``ablation_settings`` are the profile's ``tune`` and
    ``ablation`` sections: they say how many grid points and Table 6 runs a
    complete study has, so that a verdict drawn from fewer is marked provisional.
    """
    quality = [tables.get("table2_quality"), tables.get("table3_quality")]
    efficiency = [tables.get("table4_efficiency"), tables.get("table5_efficiency")]
    cells = tables.get("cells")
    table6, grid = tables.get("table6_rnn_ablation"), tables.get("grid_search")
    return [
        replace(claim_precision_recall(quality), runs=training_cells(cells, ENTITY_BERT)),
        replace(claim_highest_quality(quality), runs=training_cells(cells)),
        replace(claim_significance(tables.get("significance")), runs=training_cells(cells)),
        replace(claim_efficiency(efficiency), runs=training_cells(cells)),
        replace(claim_rnn_ablation(table6), runs=ablation_runs(table6, ablation_settings)),
        replace(claim_grid_search(grid, tune_settings), runs=grid_points(grid, tune_settings)),
    ]
