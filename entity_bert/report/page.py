"""``results/REPORT.md``: the study's report, generated from its tables and its profile.

:func:`write_report` reads the CSV tables the study wrote (``results/<profile>/tables``),
checks the paper's claims against them (:mod:`entity_bert.report.verdicts`) and writes
one Markdown page: what the study is, the profile that produced it and how
our setting differs from the paper's, a "Claims and verdicts" table, one
section per claim with the small table behind its verdict, the significance
table, the paper's numbers beside the published literature
(:mod:`entity_bert.report.literature`, with our ``metrics.json`` beside ``tables_dir``), what was not
reproduced and why, and the limits. Every number comes
from a table, the profile, the paper's claims data or the published figures
shipped with the package; the paper's figures are labelled as claims, the
literature's as published. A table a profile did not produce is reported as "not
measured in this profile". :func:`load_tables`, :func:`figure_paths`,
:func:`verdict_table` and :func:`entity_bert.report.verdicts.all_verdicts` are also
what the results notebook (``notebooks/results.py``) shows.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from entity_bert.core.fileio import atomic_write_text
from entity_bert.report.catalogue import FIGURE_NAMES, TABLE_NAMES, claim_links
from entity_bert.report.claims import CITATION, claimed_protocol
from entity_bert.report.literature import literature_section, load_metrics
from entity_bert.report.markdown import markdown_table
from entity_bert.report.verdicts import REPRODUCED, Verdict, all_verdicts

NOT_MEASURED = "not measured in this profile"
PAPER_DATASETS = (
    "The paper evaluates on ACE 2004, ACE 2005 and KBP2017 (news and web corpora licensed by the LDC, "
    "which we cannot use) and GENIA. We use public biomedical corpora instead: JNLPBA (the GENIA-derived "
    "NER corpus) for GENIA, and MACCROBAT2020 clinical case reports for the electronic medical records "
    "the paper is about; the others stand in for none of the paper's datasets."
)


def load_tables(tables_dir: str | Path) -> dict[str, pd.DataFrame | None]:
    """Every study table by name (:mod:`.catalogue`); ``None`` for a table not written."""
    folder = Path(tables_dir)
    return {
        name: pd.read_csv(folder / f"{name}.csv") if (folder / f"{name}.csv").exists() else None
        for name in TABLE_NAMES
    }


def figure_paths(figures_dir: str | Path) -> dict[str, Path]:
    """The study's figures (PNG) that exist under ``figures_dir``, by name (:mod:`.catalogue`)."""
    folder = Path(figures_dir)
    return {name: folder / f"{name}.png" for name in FIGURE_NAMES if (folder / f"{name}.png").exists()}


def _markdown(frame: pd.DataFrame | None) -> str:
    """A GitHub table, numbers to 4 places, yes/no for booleans; a table not written says so."""
    if frame is None or frame.empty:
        return f"_{NOT_MEASURED}._"
    return markdown_table(frame, digits=4, yes_no=True)


NONE_MEANS = {"head_lr": "lr"}  # what an unset setting stands for, where it is not "all"


def _value(value, key: str = "") -> str:
    """A setting as text: lists comma-separated, mappings as ``key=value``, ``None`` as "all"."""
    if isinstance(value, dict):
        return (
            ", ".join(
                f"{k}={{{_value(v)}}}" if isinstance(v, dict) else f"{k}={_value(v, k)}"
                for k, v in value.items()
            )
            or "none"
        )
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return NONE_MEANS.get(key, "all") if value is None else str(value)


def encoder_description(name: str) -> str:
    """The encoder a profile names, with its depth and width read from its configuration."""
    from entity_bert.models.config import PACKAGED, TINY_CONFIG, TINY_RANDOM, packaged_path

    if name == TINY_RANDOM:
        return (
            f"a tiny random BERT ({TINY_CONFIG['num_hidden_layers']} layers, hidden size "
            f"{TINY_CONFIG['hidden_size']}; for smoke tests only, its numbers mean nothing)"
        )
    packaged = name in ("packaged", PACKAGED)
    config = packaged_path() / "config.json" if packaged else Path(name) / "config.json"
    title = "sentence-transformers/all-MiniLM-L6-v2 (general-domain)" if packaged else f"`{name}`"
    if not config.exists():
        return title
    content = json.loads(config.read_text("utf-8"))
    return f"{title}, {content['num_hidden_layers']} layers, hidden size {content['hidden_size']}"


def _study(profile: dict) -> dict:
    return profile.get("study", {})


def profile_section(profile: dict) -> list[str]:
    """The profile that produced the report, its settings and the command that reproduces it."""
    study = _study(profile)
    settings = {
        "corpora": study.get("corpora"),
        "systems": study.get("systems"),
        "seeds": study.get("seeds"),
        "encoder": study.get("encoder"),
        **study.get("run", {}),
        **{f"bootstrap {k}": v for k, v in study.get("bootstrap", {}).items()},
        **{f"{k} corpora": v for k, v in study.get("tables", {}).items()},
    }
    rows = pd.DataFrame({"setting": list(settings), "value": [_value(v, k) for k, v in settings.items()]})
    overrides = {system: own for system, own in (study.get("system_overrides") or {}).items() if own}
    override_rows = pd.DataFrame(
        {"system": list(overrides), "its own settings": [_value(v) for v in overrides.values()]}
    )
    return [
        "## The profile behind this report",
        "",
        f"Profile **{profile.get('profile', 'unnamed')}**: {profile.get('description', '').strip()}",
        "",
        _markdown(rows),
        "",
        "Per-system settings that differ from the above:",
        "",
        _markdown(override_rows) if overrides else "_none_",
        "",
        f"To reproduce: `entity-bert study use {profile.get('profile', '<profile>')}` (copies "
        "`params/profiles/<profile>.yaml` to `params/study.yaml`, the active profile), then `make study` "
        "(`dvc repro --allow-missing`: what is missing or out of date; `dvc repro --force` recomputes all).",
        "",
    ]


def _stand_ins(tables: dict[str, pd.DataFrame | None]) -> pd.DataFrame:
    parts = []
    for name in ("table2_quality", "table3_quality"):
        frame = tables.get(name)
        if frame is not None and "stands_in_for" in frame:
            rows = frame[frame.source == "measured"][["corpus", "stands_in_for"]].drop_duplicates()
            parts.append(rows.assign(table=name.split("_")[0].replace("table", "Table ")))
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts).rename(columns={"stands_in_for": "stands in for"})


def _devices(tables: dict[str, pd.DataFrame | None]) -> list[str]:
    devices: set[str] = set()
    for name in ("table4_efficiency", "table5_efficiency"):
        frame = tables.get(name)
        if frame is not None and "device" in frame:
            devices |= set(frame.loc[frame.source == "measured", "device"].dropna().astype(str))
    return sorted(devices)


def differences_section(profile: dict, tables: dict[str, pd.DataFrame | None]) -> list[str]:
    """How our setting differs from the paper's: corpora, encoder, hardware, training regime."""
    study, run = _study(profile), _study(profile).get("run", {})
    paper = claimed_protocol()
    devices = _devices(tables)
    hardware = (
        f"The runs recorded device(s) {', '.join(devices)}"
        + (
            "; no GPU was used"
            if all(d == "cpu" for d in devices)
            else "; the cells table says which cells ran where, on which GPU and with which PyTorch"
        )
        if devices
        else "no efficiency measured in this profile"
    )
    return [
        "## How our setting differs from the paper's",
        "",
        f"- **Corpora.** {PAPER_DATASETS}",
        "",
        _markdown(_stand_ins(tables)),
        "",
        f"- **Encoder.** {encoder_description(str(study.get('encoder', 'packaged')))}, for every system, "
        "against the paper's BERT.",
        f"- **Hardware.** {hardware} (the paper does not say what its times were measured on).",
        f"- **Regime.** `{run.get('regime', 'unknown')}`, at most {_value(run.get('epochs'))} epochs "
        f"(patience {_value(run.get('patience'))}), learning rate {_value(run.get('lr'))}, "
        f"{_value(run.get('max_train_sentences'))} training and {_value(run.get('max_eval_sentences'))} "
        f"dev/test sentences per run{_dev_cap(run)}, seeds {_value(study.get('seeds'))}; "
        "the paper's protocol: "
        f"{paper['epochs']} epochs, patience {paper['early_stopping_patience']}, learning rate "
        f"{paper['learning_rate']}, its full datasets (claimed: {CITATION}, section 4.2).",
        "",
    ]


def _dev_cap(run: dict) -> str:
    """How many dev sentences score early stopping, where a run caps them."""
    cap = run.get("max_dev_sentences")
    return "" if cap is None else f" (early stopping scores a seeded {cap} of a larger dev split)"


def verdict_table(verdicts: list[Verdict]) -> pd.DataFrame:
    """The "Claims and verdicts" table: one row per claim."""
    return pd.DataFrame(
        [
            {
                "#": v.number,
                "claim of the paper": f"{v.claim} ({v.where})",
                f"the paper's figure (claimed: {CITATION})": v.paper,
                "ours (measured)": v.ours,
                "verdict": v.stated,
            }
            for v in verdicts
        ]
    )


def _provisional_line(verdicts: list[Verdict]) -> str:
    """The headline's warning where a tested verdict rests on runs still missing (else nothing)."""
    numbers = [str(v.number) for v in verdicts if v.provisional]
    if not numbers:
        return ""
    return (
        f" **Provisional:** the verdict(s) on claim(s) {', '.join(numbers)} are drawn from the runs done so "
        "far (each says how many) and may change as the missing ones finish (the cells table below)."
    )


def _link(folder: Path, name: str, suffix: str, out_dir: Path) -> str | None:
    path = folder / f"{name}{suffix}"
    if not path.exists():
        return None
    target = os.path.relpath(path, out_dir)
    return f"![{name}]({target})" if suffix == ".png" else f"[{name}]({target})"


def claim_section(verdict: Verdict, tables_dir: Path, figures_dir: Path, out_dir: Path) -> list[str]:
    """One claim: the claim, the verdict, the table behind it and links to the full tables and figures."""
    names, figures = claim_links(verdict.number)
    tables = [_link(tables_dir, n, ".md", out_dir) for n in names]
    shown = [link for link in tables if link]
    lines = [
        f"### Claim {verdict.number}: {verdict.claim}",
        "",
        f"Claimed ({CITATION}, {verdict.where}): {verdict.paper}. Measured: {verdict.ours}. "
        f"**Verdict: {verdict.stated}.** {verdict.note}",
        "",
        _markdown(verdict.details),
        "",
        f"Full tables: {', '.join(shown) if shown else NOT_MEASURED}.",
        "",
    ]
    lines += [link + "\n" for link in (_link(figures_dir, n, ".png", out_dir) for n in figures) if link]
    return lines


def _sentence_range(tables: dict[str, pd.DataFrame | None], column: str) -> str:
    """The range of a sentence count over the measured rows; "all" (a whole split) where a row says so."""
    values, whole = [], False
    for name in ("table2_quality", "table3_quality"):
        frame = tables.get(name)
        if frame is not None and column in frame:
            for item in frame.loc[frame.source == "measured", column].dropna().astype(str):
                whole = whole or "all" in item
                values += [int(float(part)) for part in item.split("-") if part and part != "all"]
    if not values:
        return "all the" if whole else "unknown"
    low, high = min(values), max(values)
    counted = str(low) if low == high else f"{low}-{high}"
    return f"{counted} (or all)" if whole else counted


def _cell_spread(table6: pd.DataFrame | None) -> str:
    """Per corpus: the range of the recurrent cells' mean F1 and their largest standard deviation."""
    if table6 is None:
        return NOT_MEASURED
    ours = table6[table6.source == "measured"]
    parts = [
        f"{corpus}: mean F1 {frame.f1_mean.min():.4f}-{frame.f1_mean.max():.4f}, standard deviation over "
        f"seeds up to {frame.f1_std.max():.4f}"
        for corpus, frame in ours.groupby("corpus", sort=False)
    ]
    return "; ".join(parts) or NOT_MEASURED


def not_reproduced_section(verdicts: list[Verdict], profile: dict, tables: dict) -> list[str]:
    """One paragraph per claim not reproduced: what we found, and the likely reasons."""
    study = _study(profile)
    run = study.get("run", {})
    setting = (
        f"our corpora are stand-ins for the paper's, our encoder is "
        f"{encoder_description(str(study.get('encoder', 'packaged')))}, and we train in the "
        f"`{run.get('regime', 'unknown')}` regime for at most {_value(run.get('epochs'))} epochs on "
        f"{_value(run.get('max_train_sentences'))} training sentences per run"
    )
    reasons = {
        1: f"The paper's figures were measured on other datasets with a full BERT; {setting}.",
        2: f"The ranking of systems depends on corpus and budget; {setting}.",
        3: "The paper reports no test; ours pairs runs by seed and resamples test sentences "
        f"({_sentence_range(tables, 'test_sentences')} sentences per run).",
        4: "In one harness on one encoder, Entity-BERT is the BERT row plus a BiLSTM and cross-attention, so "
        "it cannot have fewer parameters or FLOPs than that row where both are measured; the paper does "
        "not say how its figures were measured.",
        5: "The recurrent layers differ little on the same encoder "
        f"({_cell_spread(tables.get('table6_rnn_ablation'))}).",
        6: "Our grid is searched with one seed on one corpus; see the dev F1 of the paper's point against "
        "the best above.",
    }
    lines = ["## What was not reproduced, and why", ""]
    missing = [v for v in verdicts if v.tested and not v.reproduced]
    if not missing:
        return [*lines, "Every claim tested in this profile was reproduced.", ""]
    for v in missing:
        lines += [f"- **Claim {v.number}** ({v.claim}): {v.stated}; measured {v.ours}. {reasons[v.number]}"]
    return [*lines, ""]


def limits_section(verdicts: list[Verdict], profile: dict, tables: dict) -> list[str]:
    """What the numbers can and cannot say."""
    study = _study(profile)
    seeds = study.get("seeds") or []
    untested = [str(v.number) for v in verdicts if not v.tested]
    lines = [
        "## Limits",
        "",
        f"- {len(seeds)} seed(s) per (corpus, system); test sets of "
        f"{_sentence_range(tables, 'test_sentences')} sentences, training on "
        f"{_sentence_range(tables, 'train_sentences')} sentences; expensive systems are scored on smaller, "
        "nested test subsets, and paired comparisons use the sentences both systems scored.",
        "- The paper's datasets cannot be used here, so no number of ours is a direct check of a number of "
        "the paper's: our verdicts test whether the paper's claims hold in a comparable setting.",
        "- The template system is built from the same encoder (a BERT-to-BERT sequence-to-sequence model), "
        "not from BART, whose weights are not available here.",
        "- The paper prints parameters without a unit; we read them as millions.",
        f"- Precision, recall and F1 are entity-level (seqeval strict, IOB2, micro); accuracy is token "
        f'accuracy, which is what we take the paper\'s "Accuracy" to be. {CITATION} does not define it.',
    ]
    if untested:
        lines.append(f"- Not testable in this profile: claim(s) {', '.join(untested)}.")
    return [*lines, ""]


def other_reports_line(others: dict[str, Path], out_dir: Path) -> list[str]:
    """Links to the other profiles' reports that exist (``others``: profile name -> report path)."""
    found = sorted((name, path) for name, path in others.items() if path.exists())
    links = [f"[`{name}`]({os.path.relpath(path, out_dir)})" for name, path in found]
    return [f"The other profiles' reports: {', '.join(links)}.", ""] if links else []


def report_text(
    tables: dict[str, pd.DataFrame | None],
    profile: dict,
    tables_dir: Path,
    figures_dir: Path,
    out_dir: Path,
    others: dict[str, Path] | None = None,
) -> str:
    """The whole report as Markdown (``others``: the other profiles' report pages, linked when they exist)."""
    verdicts = all_verdicts(tables, profile.get("tune"), profile.get("ablation"))
    reproduced = sum(v.verdict == REPRODUCED for v in verdicts)
    significance = tables.get("significance")
    lines = [
        "# Entity-BERT, reproduced: report",
        "",
        f"This study re-implements Entity-BERT ({CITATION}: a BERT encoder, a BiLSTM, cross-attention "
        "between the two and a token classifier, for medical named-entity recognition) and the five "
        "systems the paper compares it with, trains them all in one harness on public biomedical corpora "
        "with several seeds, and checks the paper's claims against what we measure. The paper's figures are "
        f'data shipped with the package and are always labelled "claimed: {CITATION}"; ours are labelled '
        '"measured". This page is generated by `entity_bert.report.page` from the study\'s tables; '
        "no number in it is typed in.",
        "",
        f"**{reproduced} of {len(verdicts)} claims reproduced** in profile "
        f"`{profile.get('profile', 'unnamed')}` ({sum(v.tested for v in verdicts)} of them testable "
        f"with the runs done so far).{_provisional_line(verdicts)}",
        "",
        *other_reports_line(others or {}, out_dir),
        *profile_section(profile),
        *cells_section(tables_dir),
        *differences_section(profile, tables),
        "## Claims and verdicts",
        "",
        _markdown(verdict_table(verdicts)),
        "",
        "## The claims one by one",
        "",
    ]
    for verdict in verdicts:
        lines += claim_section(verdict, tables_dir, figures_dir, out_dir)
    lines += [
        "## Significance: Entity-BERT against each system",
        "",
        "delta = Entity-BERT's F1 minus the system's (mean over seeds); p_seeds: paired t-test across seeds; "
        "p_bootstrap: two-sided paired bootstrap over the test sentences both scored.",
        "",
        _markdown(significance),
        "",
        *decoding_section(tables_dir),
        literature_section(
            load_metrics(tables_dir.parent / "metrics.json"),
            profile,
            encoder_description(str(_study(profile).get("encoder", "packaged"))),
            _devices(tables),
        ),
        *raw_text_section(tables_dir.parent / "raw_text"),
        *not_reproduced_section(verdicts, profile, tables),
        *limits_section(verdicts, profile, tables),
    ]
    return "\n".join(lines)


def embedded_section(path: Path, heading: str) -> list[str]:
    """A page another stage wrote, under ``heading`` instead of its own title; nothing if it is absent."""
    if not path.exists():
        return []
    body = path.read_text("utf-8").split("\n", 2)[2]  # less its own title
    return [heading, "", body]


def decoding_section(tables_dir: Path) -> list[str]:
    """Argmax against constrained decoding, strict and conlleval (the profile's ``tables/decoding.md``)."""
    heading = "## Decoding: each word's argmax or the most probable valid IOB2 tags"
    return embedded_section(tables_dir / "decoding.md", heading)


def cells_section(tables_dir: Path) -> list[str]:
    """The profile's training cells, done and missing, and the machines they ran on."""
    return embedded_section(tables_dir / "cells.md", "## Cells: what ran, where, and what is missing")


def raw_text_section(folder: Path) -> list[str]:
    """The raw-text check (:mod:`entity_bert.serve.span_eval`), when the profile ran it."""
    return embedded_section(folder / "span_eval.md", "## Raw text: span level against token level")


def write_report(
    tables_dir: str | Path,
    out_path: str | Path,
    profile: dict,
    figures_dir: str | Path | None = None,
    others: dict[str, Path] | None = None,
) -> None:
    """Write the report (atomically) from the tables under ``tables_dir`` and the study profile.

    ``figures_dir`` defaults to ``figures/`` beside ``tables_dir``; links are relative to ``out_path``.
    """
    tables_dir = Path(tables_dir)
    figures_dir = Path(figures_dir) if figures_dir is not None else tables_dir.parent / "figures"
    out_path = Path(out_path)
    text = report_text(load_tables(tables_dir), profile, tables_dir, figures_dir, out_path.parent, others)
    atomic_write_text(out_path, text)
