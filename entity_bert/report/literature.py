"""The paper's numbers beside the published literature: three tables, their verdicts and one report section.

``resources/literature.csv`` (a byte-exact copy of ``../shared/paper/literature.csv``, shipped with the
package) holds other people's published figures: F1, and precision and recall where the source gives
them, in percent, with the source each was read from; ``confirmed`` is "no" where only an aggregator
listed a figure. A row without a figure records that its authors never evaluated on that dataset.

Three tables, all in percent, set these beside the paper's claims (:mod:`.claims`) and our measurements
(the profile's ``metrics.json``):

- :func:`baselines_table`: the paper's baseline P and R (its Tables 2-3), the F1 they imply (derived by
  us) and the F1 the baselines' own authors published on the same datasets;
- :func:`entity_bert_table`: the paper's Entity-BERT P, R and implied F1 beside the best published F1;
- :func:`domain_table`: our measured F1 per corpus beside published biomedical systems.

Each has a verdict function returning a sentence that states its rule (a gap of more than
:data:`GAP_POINTS` F1 points) and counts the rows that meet it. :func:`literature_section` writes the
section of ``results/REPORT.md`` that :mod:`.page` places after the claims.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import pandas as pd

from entity_bert.models.config import PACKAGED, TINY_RANDOM, packaged_path
from entity_bert.report.claims import CITATION, claimed_table
from entity_bert.report.markdown import markdown_table
from entity_bert.report.verdicts import ENTITY_BERT, PAPER_ENTITY_BERT

LITERATURE = "resources/literature.csv"
GAP_POINTS = 3.0  # every verdict here: a difference of more than this many F1 points
CLAIMED_FROM = f"{CITATION}, Tables 2-3"

# The paper's baselines (its Tables 2-3 labels) -> the start of their authors' system name in
# literature.csv; None: no published figure collected for it.
BASELINE_AUTHORS = {
    "Li et al. (2019) MRC": "MRC-NER",
    "Yu et al. (2020) biaffine": "Biaffine",
    "Cui et al. (2021) template BART": "Template BART",
    "BERT (Li et al. 2020)": None,
    "CONTaiNER (Das et al. 2021)": "CONTaiNER",
}
# Our corpora -> the literature's datasets standing for them, each with the entity type of ours it is
# scored against (a key of metrics.json's per-type F1; None: the corpus's micro F1). {}: none published.
CORPUS_DATASETS = {
    "maccrobat2020": {},
    "ncbi-disease": {"NCBI-disease": None},
    "bc5cdr": {
        "BC5CDR-chemical": "Chemical",
        "BC5CDR-disease": "Disease",
        "BC5CDR (chemical+disease)": None,
        "BC5CDR (listed under CDR-disease; may be chemical+disease)": None,
    },
    "jnlpba": {"JNLPBA": None},
    "anatem": {"AnatEM": None},
}
# The published systems of the third table, as their names in literature.csv start.
DOMAIN_SYSTEMS = ("BERT-base", "BioBERT", "PubMedBERT", "BiLSTM-CRF", "Stanza", "scispaCy")

NOT_EVALUATED = "none: not evaluated by its authors"
NOT_COLLECTED = "none collected"
BESIDE = "beside its authors' own"
OWN_RUN = "the paper's own run (its authors published none here)"
UNTRACED = "no published figure collected"
NA = "n/a"
NOT_MEASURED = "not measured"


def literature_path():
    """The packaged ``literature.csv`` (an importlib resource)."""
    return resources.files("entity_bert").joinpath(LITERATURE)


def load_literature() -> pd.DataFrame:
    """The published figures, one row per (system, dataset): a row naming "A / B" becomes one per dataset."""
    with literature_path().open(encoding="utf-8") as handle:
        frame = pd.read_csv(handle)
    frame["dataset"] = frame.dataset.str.split(" / ")
    return frame.explode("dataset", ignore_index=True)


def load_metrics(path: str | Path) -> dict | None:
    """A profile's ``metrics.json`` ({corpus: {system: means}}), or ``None`` where it wrote none."""
    path = Path(path)
    return json.loads(path.read_text("utf-8")) if path.exists() else None


def implied_f1(precision, recall):
    """The F1 that a precision and recall imply, 2PR/(P+R) (scalars or Series alike)."""
    return 2 * precision * recall / (precision + recall)


def paper_figures() -> pd.DataFrame:
    """The paper's Tables 2-3 in percent, with the F1 its P and R imply (``f1_implied``, derived by us)."""
    claims = claimed_table("table2_3_quality")
    frame = claims.assign(precision=100 * claims.precision, recall=100 * claims.recall)
    return frame.assign(f1_implied=implied_f1(frame.precision, frame.recall))


def _unconfirmed(confirmed) -> bool:
    return str(confirmed).strip().lower() == "no"


def _published(literature: pd.DataFrame, system: str, dataset: str) -> pd.Series | None:
    """The row of ``literature`` whose system name starts with ``system`` on ``dataset``, if any."""
    rows = literature[literature.system.str.startswith(system) & (literature.dataset == dataset)]
    return None if rows.empty else rows.iloc[0]


def _published_columns(row: pd.Series | None) -> dict:
    if row is None:
        return {"published_f1": math.nan, "published_system": None, "source": None, "confirmed": None}
    return {
        "published_f1": row.f1,
        "published_system": row.system,
        "source": row.source,
        "confirmed": row.confirmed,
    }


def _baseline_status(author: str | None, published: pd.Series | None) -> str:
    if author is None or published is None:
        return UNTRACED
    return OWN_RUN if pd.isna(published.f1) else BESIDE


def baselines_table(
    literature: pd.DataFrame | None = None, paper: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The paper's baselines (P, R, implied F1) beside the F1 their own authors published, per dataset."""
    literature = load_literature() if literature is None else literature
    paper = paper_figures() if paper is None else paper
    order = {method: rank for rank, method in enumerate(BASELINE_AUTHORS)}
    baselines = paper[paper.method != PAPER_ENTITY_BERT]
    baselines = baselines.sort_values("method", key=lambda m: m.map(order), kind="stable")
    rows = []
    for row in baselines.itertuples():
        author = BASELINE_AUTHORS.get(row.method)
        published = None if author is None else _published(literature, author, row.dataset)
        columns = _published_columns(published)
        rows.append(
            {
                "dataset": row.dataset,
                "method": row.method,
                "precision": row.precision,
                "recall": row.recall,
                "f1_implied": row.f1_implied,
                **columns,
                "gap": row.f1_implied - columns["published_f1"],
                "status": _baseline_status(author, published),
            }
        )
    return pd.DataFrame(rows)


def baselines_verdict(table: pd.DataFrame) -> str:
    """How many of the paper's baseline figures lie more than :data:`GAP_POINTS` from their authors' own."""
    compared = table[table.status == BESIDE]
    far = compared[compared.gap.abs() > GAP_POINTS]
    return (
        "Rule: a baseline figure of the paper departs from its authors' own when the F1 its P and R imply "
        "differs from the F1 those authors published on the same dataset by more than "
        f"{GAP_POINTS:g} points. "
        f"**{len(far)} of {len(compared)}** baseline figures with a published counterpart depart "
        f"({(far.gap < 0).sum()} below it, {(far.gap > 0).sum()} above); "
        f"{(table.status == OWN_RUN).sum()} are the paper's own runs, their authors having published none on "
        f"that dataset, and {(table.status == UNTRACED).sum()} have no published figure collected."
    )


def _best_published(literature: pd.DataFrame, dataset: str) -> pd.Series | None:
    rows = literature[(literature.dataset == dataset) & literature.f1.notna()]
    return None if rows.empty else rows.loc[rows.f1.idxmax()]


def entity_bert_table(
    literature: pd.DataFrame | None = None, paper: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The paper's Entity-BERT (P, R, implied F1) beside the highest published F1 on each of its datasets."""
    literature = load_literature() if literature is None else literature
    paper = paper_figures() if paper is None else paper
    rows = []
    for row in paper[paper.method == PAPER_ENTITY_BERT].itertuples():
        columns = _published_columns(_best_published(literature, row.dataset))
        rows.append(
            {
                "dataset": row.dataset,
                "precision": row.precision,
                "recall": row.recall,
                "f1_implied": row.f1_implied,
                **columns,
                "gap": row.f1_implied - columns["published_f1"],
            }
        )
    return pd.DataFrame(rows)


def other_published(
    literature: pd.DataFrame, baselines: pd.DataFrame, entity_bert: pd.DataFrame
) -> pd.DataFrame:
    """Published F1s on the paper's datasets that neither of the first two tables shows (below the best)."""
    shown = {
        (system, dataset)
        for table in (baselines, entity_bert)
        for system, dataset in zip(table.published_system, table.dataset, strict=True)
    }
    on_them = literature[literature.dataset.isin(entity_bert.dataset) & literature.f1.notna()]
    keep = [
        (system, dataset) not in shown
        for system, dataset in zip(on_them.system, on_them.dataset, strict=True)
    ]
    return on_them[keep]


def _other_lines(others: pd.DataFrame) -> list[str]:
    return [
        f"- {row.system} on {row.dataset}: F1 {_published_cell(row.f1, row.confirmed, '')} "
        f"(published; {row.source})"
        for row in others.itertuples()
    ]


def entity_bert_verdict(table: pd.DataFrame) -> str:
    """How many of the paper's Entity-BERT F1s exceed the best published by more than :data:`GAP_POINTS`."""
    compared = table[table.published_f1.notna()]
    beyond = compared[compared.gap > GAP_POINTS]
    unconfirmed = sum(_unconfirmed(c) for c in beyond.confirmed)
    gaps = f" (by {beyond.gap.min():.2f} to {beyond.gap.max():.2f} points)" if len(beyond) else ""
    return (
        "Rule: the paper's Entity-BERT F1 (implied by its P and R) lies beyond the published state of the "
        "art when it exceeds the highest F1 published on the same dataset by more than "
        f"{GAP_POINTS:g} points. **{len(beyond)} of {len(compared)}** datasets with a published figure "
        f"do{gaps}; {unconfirmed} of those published figures are unconfirmed."
    )


def _score(entry: dict | None, entity_type: str | None, conlleval: bool = False) -> float:
    """One figure of a (corpus, system) entry of metrics.json in percent; NaN where it is not recorded."""
    if entry is None:
        return math.nan
    if entity_type is None:
        value = entry.get("conlleval_f1" if conlleval else "f1")
    else:
        value = (entry.get("per_type_conlleval_f1" if conlleval else "per_type_f1") or {}).get(entity_type)
    return math.nan if value is None else 100 * value


def _ours(systems: dict | None, entity_type: str | None) -> dict:
    """Our best system by strict F1 (micro, or on one type), its figures and Entity-BERT's."""
    systems = systems or {}
    strict = {name: _score(entry, entity_type) for name, entry in systems.items()}
    scored = {name: value for name, value in strict.items() if not math.isnan(value)}
    best = max(scored, key=scored.get) if scored else None
    return {
        "best_system": best,
        "best_f1": scored.get(best, math.nan),
        "best_conlleval_f1": _score(systems.get(best), entity_type, conlleval=True),
        "entity_bert_f1": _score(systems.get(ENTITY_BERT), entity_type),
        "entity_bert_conlleval_f1": _score(systems.get(ENTITY_BERT), entity_type, conlleval=True),
    }


def _decoding(systems: dict | None) -> str | None:
    values = sorted({str(entry["decode"]) for entry in (systems or {}).values() if "decode" in entry})
    return "/".join(values) or None


def domain_table(
    metrics: dict | None, corpora: Iterable[str], literature: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Our measured F1 per corpus (and per type where a published dataset splits it) beside published F1s.

    One row per (corpus, published dataset); a corpus with no published dataset keeps one row with
    ``dataset`` empty. ``measured`` says whether metrics.json has the corpus; absent keys give NaN.
    """
    literature = load_literature() if literature is None else literature
    rows = []
    for corpus in corpora:
        systems = (metrics or {}).get(corpus)
        for dataset, entity_type in (CORPUS_DATASETS.get(corpus) or {None: None}).items():
            published = {
                system: (row.f1 if (row := _published(literature, system, dataset)) is not None else math.nan)
                for system in DOMAIN_SYSTEMS
            }
            rows.append(
                {
                    "corpus": corpus,
                    "dataset": dataset,
                    "entity_type": entity_type,
                    "measured": systems is not None,
                    "decode": _decoding(systems),
                    **_ours(systems, entity_type),
                    **published,
                }
            )
    return pd.DataFrame(rows)


def domain_verdict(table: pd.DataFrame) -> str:
    """How many rows see our best strict F1 more than :data:`GAP_POINTS` below every published F1."""
    lowest = table[list(DOMAIN_SYSTEMS)].min(axis=1)
    published = table[table.dataset.notna() & lowest.notna()]
    compared = published[published.best_f1.notna()]
    short = lowest[compared.index] - compared.best_f1
    below = short[short > GAP_POINTS]
    gaps = f" (by {below.min():.2f} to {below.max():.2f} points)" if len(below) else ""
    unpublished = ", ".join(table.corpus[table.dataset.isna()]) or "none"
    return (
        "Rule: our best strict F1 falls short of the literature on a row when it is more than "
        f"{GAP_POINTS:g} points below the lowest F1 published on that row's dataset. **{len(below)} of "
        f"{len(compared)}** rows with both a published and a measured figure do{gaps}; "
        f"{len(published) - len(compared)} row(s) with a published figure have no measured figure of ours "
        f"to set beside it ({NA} or {NOT_MEASURED}). Corpora of ours with no published figure: {unpublished}."
    )


def _points(value: float) -> str:
    return f"{value:.2f}"


def _published_cell(f1: float, confirmed, missing: str, key: str = "") -> str:
    if pd.isna(f1):
        return missing
    return f"{_points(f1)}{key}" + (" (unconfirmed)" if _unconfirmed(confirmed) else "")


def _claimed_columns(table: pd.DataFrame) -> dict:
    return {
        "P (claimed)": table.precision.map(_points),
        "R (claimed)": table.recall.map(_points),
        "F1 implied by P and R (derived by us)": table.f1_implied.map(_points),
    }


def _gap_cells(gaps: pd.Series) -> pd.Series:
    return gaps.map(lambda gap: "" if pd.isna(gap) else _points(gap))


def baselines_shown(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`baselines_table` for the page: labelled columns, figures to two places."""
    missing = table.status.map({OWN_RUN: NOT_EVALUATED}).fillna(NOT_COLLECTED)
    published = [
        _published_cell(f1, confirmed, gone)
        for f1, confirmed, gone in zip(table.published_f1, table.confirmed, missing, strict=True)
    ]
    return pd.DataFrame(
        {
            "dataset": table.dataset,
            "the paper's baseline": table.method,
            **_claimed_columns(table),
            "F1 published by its authors": published,
            "gap (points)": _gap_cells(table.gap),
            "source of the published figure": table.source.fillna("literature.csv has no row for it"),
            "the paper's figure is": table.status,
        }
    )


def entity_bert_shown(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`entity_bert_table` for the page: labelled columns, figures to two places."""
    published = [
        _published_cell(f1, confirmed, "none published")
        for f1, confirmed in zip(table.published_f1, table.confirmed, strict=True)
    ]
    return pd.DataFrame(
        {
            "dataset": table.dataset,
            **_claimed_columns(table),
            "best F1 published": published,
            "published by": table.published_system.fillna(""),
            "gap (points)": _gap_cells(table.gap),
            "source of the published figure": table.source.fillna(""),
        }
    )


def _ours_cell(value: float, measured: bool) -> str:
    if not measured:
        return NOT_MEASURED
    return NA if pd.isna(value) else _points(value)


def _source_keys(table: pd.DataFrame, literature: pd.DataFrame) -> dict[str, int]:
    """Each source of a published figure in the table, numbered in order of appearance."""
    keys: dict[str, int] = {}
    for dataset in table.dataset.dropna():
        for system in DOMAIN_SYSTEMS:
            row = _published(literature, system, dataset)
            if row is not None and pd.notna(row.f1):
                keys.setdefault(row.source, len(keys) + 1)
    return keys


def _domain_cell(literature: pd.DataFrame, system: str, dataset, keys: dict[str, int]) -> str:
    row = None if pd.isna(dataset) else _published(literature, system, dataset)
    if row is None:
        return ""
    return _published_cell(row.f1, row.confirmed, "", f" [{keys.get(row.source, '?')}]")


def domain_shown(table: pd.DataFrame, literature: pd.DataFrame, keys: dict[str, int]) -> pd.DataFrame:
    """:func:`domain_table` for the page: ours (measured) and each published system, with source keys."""
    measured = table.measured
    frame = pd.DataFrame(
        {
            "our corpus": table.corpus,
            "published dataset (our type)": [
                "none in literature.csv" if pd.isna(d) else (d if pd.isna(t) else f"{d} ({t})")
                for d, t in zip(table.dataset, table.entity_type, strict=True)
            ],
            "best system (measured)": [
                _ours_cell(math.nan, m) if pd.isna(s) else s
                for s, m in zip(table.best_system, measured, strict=True)
            ],
        }
    )
    for column, label in (
        ("best_f1", "its strict F1"),
        ("best_conlleval_f1", "its conlleval F1"),
        ("entity_bert_f1", "Entity-BERT strict F1"),
        ("entity_bert_conlleval_f1", "Entity-BERT conlleval F1"),
    ):
        frame[f"{label} (measured)"] = [
            _ours_cell(v, m) for v, m in zip(table[column], measured, strict=True)
        ]
    for system in DOMAIN_SYSTEMS:
        frame[f"{system} F1 (published)"] = [_domain_cell(literature, system, d, keys) for d in table.dataset]
    return frame


def encoder_parameters(name: str) -> int | None:
    """Parameters of the encoder a profile names, counted from its safetensors headers (no torch)."""
    if name == TINY_RANDOM:
        return None
    folder = packaged_path() if name in ("packaged", PACKAGED) else Path(name)
    files = sorted(folder.glob("*.safetensors")) if folder.is_dir() else []
    return sum(_tensor_sizes(path) for path in files) or None


def _tensor_sizes(path: Path) -> int:
    with path.open("rb") as handle:
        header = json.loads(handle.read(int.from_bytes(handle.read(8), "little")))
    return sum(math.prod(tensor["shape"]) for name, tensor in header.items() if name != "__metadata__")


def _setting(profile: dict, encoder: str, devices: Iterable[str]) -> str:
    """Our setting in one sentence: the encoder, its size, the regime, the budget and the device."""
    study = profile.get("study", {})
    run = study.get("run", {})
    count = encoder_parameters(str(study.get("encoder", "packaged")))
    size = f", {count / 1e6:.1f}M parameters (counted from its weights)" if count else ""
    devices = sorted(set(devices))
    where = (
        f"on {', '.join(devices)} (the device(s) the runs recorded)"
        if devices
        else "on a device not recorded"
    )
    return (
        f"Ours (measured) use one encoder for every system, {encoder}{size}, in the "
        f"`{run.get('regime', 'unknown')}` regime, trained on at most "
        f"{run.get('max_train_sentences', 'all')} sentences per run for at most {run.get('epochs', '?')} "
        f"epochs and scored on at most {run.get('max_eval_sentences', 'all')} test sentences, {where}, "
        f"in profile `{profile.get('profile', 'unnamed')}`; the published systems fine-tune their encoders "
        "on the full training sets. Set side by side, the numbers say how far this budget is from the "
        "literature, not which method is better."
    )


def _corpora(metrics: dict | None, profile: dict) -> list[str]:
    listed = list(profile.get("study", {}).get("corpora") or [])
    listed += [corpus for corpus in (metrics or {}) if corpus not in listed]
    return listed or list(CORPUS_DATASETS)


def _decoding_note(table: pd.DataFrame) -> str:
    found = sorted({value for value in table.decode.dropna() for value in value.split("/")})
    if not found:
        return "The decoding behind our figures is not recorded in the profile's `metrics.json`."
    return f"Our figures use {' and '.join(f'`{value}`' for value in found)} decoding (as recorded)."


def _sources(keys: dict[str, int], literature: pd.DataFrame) -> list[str]:
    lines = []
    for source, key in keys.items():
        systems = ", ".join(dict.fromkeys(literature.loc[literature.source == source, "system"]))
        lines.append(f"[{key}] {source} (published; {systems})")
    return lines


def literature_section(metrics: dict | None, profile: dict, encoder: str, devices: Iterable[str] = ()) -> str:
    """The report's section: the three tables, each with its verdict, as Markdown."""
    literature = load_literature()
    baselines, entity_bert = baselines_table(literature), entity_bert_table(literature)
    domain = domain_table(metrics, _corpora(metrics, profile), literature)
    keys = _source_keys(domain, literature)
    others = other_published(literature, baselines, entity_bert)
    lines = [
        "## The paper beside the literature",
        "",
        "Other people's published figures (`entity_bert/resources/literature.csv`), each labelled "
        '"published" with its source; "(unconfirmed)" marks a figure that only an aggregator listed. '
        'All figures are in percent. The paper\'s figures are labelled "claimed" '
        f"(from {CLAIMED_FROM}); it gives precision and recall but no F1, so the F1 shown for it is "
        '"implied": 2PR/(P+R), derived by us. '
        f"Every verdict below counts gaps of more than {GAP_POINTS:g} F1 points.",
        "",
        "### The paper's baselines beside their authors' own figures",
        "",
        "gap = the F1 implied by the paper's figures minus the F1 the baseline's authors published on the "
        "same dataset.",
        "",
        markdown_table(baselines_shown(baselines)),
        "",
        f"**Verdict.** {baselines_verdict(baselines)}",
        "",
        "### The paper's Entity-BERT beside the best published figures",
        "",
        "Best published = the highest F1 on that dataset in literature.csv, whichever system; gap = the "
        "paper's implied F1 minus it.",
        "",
        markdown_table(entity_bert_shown(entity_bert)),
        "",
        *(
            ["Also published on these datasets, below the best:", "", *_other_lines(others), ""]
            if len(others)
            else []
        ),
        f"**Verdict.** {entity_bert_verdict(entity_bert)}",
        "",
        "### Our measurements beside published biomedical NER",
        "",
        _setting(profile, encoder, devices),
        "",
        "Strict: seqeval's strict mode on IOB2 (an entity counts only if its tags are well formed and its "
        "type and extent match); conlleval: the CoNLL script's reading, in which an I- tag may open an "
        "entity. Best system: the highest strict F1 of ours on that row (per type where the published "
        f"dataset is one type). {NA}: not recorded in the profile's `metrics.json`. A blank published "
        f"cell: no figure for that system on that dataset. {_decoding_note(domain)}",
        "",
        markdown_table(domain_shown(domain, literature, keys)),
        "",
        *[f"- {line}" for line in _sources(keys, literature)],
        "",
        f"**Verdict.** {domain_verdict(domain)}",
        "",
    ]
    return "\n".join(lines)
