"""The study's Figures 5-9: bar charts of Tables 2-6, measured beside the paper's claims.

The paper draws its Tables 2-6 again as bar charts (its Figures 5-9); we draw
ours from the same CSVs that ``entity_bert.report.study_tables`` and
``entity_bert.report.tables`` write (read back from the tables folder), one panel per
corpus for our measurements and one per paper dataset for the paper's claimed
numbers, each claimed panel titled as such. Error bars are standard deviations
over seeds. A table without measured rows still gives a figure, of the claims
only, with a note.

Every figure is written as PNG (dpi 150) and SVG, atomically, with no date or
software stamp and a fixed SVG id salt, so that the same table gives the same
files.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from entity_bert.core.fileio import atomic_path
from entity_bert.models.registry import TABLE_SYSTEMS
from entity_bert.report.catalogue import DRAWN_FIGURES
from entity_bert.report.claims import CITATION
from entity_bert.report.study_tables import TIMED_COLUMNS

FIGURES = DRAWN_FIGURES  # figure -> (table it draws, kind, table number)
QUALITY_METRICS = {"precision": "P", "recall": "R", "accuracy": "accuracy (token)", "f1": "F1"}
EFFICIENCY_METRICS = {  # label -> (measured column, claimed column, std column)
    "parameters": ("parameters_m_mean", "parameters_as_printed", None),
    "GFLOPs / sentence": ("flops_g_mean", "flops_g_mean", None),
    "inference (ms / sentence)": ("inference_ms_mean", "inference_ms_mean", "inference_ms_std"),
    "training (s)": ("training_s_mean", "training_s_mean", "training_s_std"),
}
SYSTEM_OF_METHOD = {method: system for system, method in TABLE_SYSTEMS.items()}
DETERMINISTIC = {"svg.hashsalt": "entity-bert", "svg.fonttype": "path"}


def _labels(frame: pd.DataFrame) -> list[str]:
    """Short bar labels: our system key where the method is a paper system, else the method, wrapped."""
    return [textwrap.fill(SYSTEM_OF_METHOD.get(m, m), 14) for m in frame.method]


def _panels(frame: pd.DataFrame, table: int) -> list[tuple[str, pd.DataFrame, bool]]:
    """(title, rows, measured?) per corpus measured, then per paper dataset claimed."""
    panels = []
    for measured in (True, False):
        rows = frame[(frame.source == "measured") == measured]
        for corpus, group in rows.groupby("corpus", sort=False):
            title = f"measured: {corpus}" if measured else f"claimed: {CITATION},\nTable {table}, {corpus}"
            panels.append((title, group, measured))
    return panels


def _quality_panel(axes: Axes, title: str, rows: pd.DataFrame) -> None:
    metrics = [m for m in QUALITY_METRICS if rows[f"{m}_mean"].notna().any()]
    x = np.arange(len(rows))
    width = 0.8 / max(len(metrics), 1)
    for i, metric in enumerate(metrics):
        std = rows.get(f"{metric}_std")
        errors = std.fillna(0).to_numpy() if std is not None and std.notna().any() else None
        offset = (i - (len(metrics) - 1) / 2) * width
        axes.bar(
            x + offset, rows[f"{metric}_mean"], width, yerr=errors, capsize=2, label=QUALITY_METRICS[metric]
        )
    axes.set_xticks(x, _labels(rows), fontsize=7)
    axes.set_ylim(0, 1.2)  # room above the bars for the legend
    axes.set_yticks(np.linspace(0, 1, 6))
    axes.set_title(title, fontsize=8)
    axes.legend(fontsize=6, loc="upper center", ncols=len(metrics), frameon=False)


def _quality_figure(frame: pd.DataFrame, table: int) -> Figure:
    panels = _panels(frame, table)
    columns = min(3, len(panels))
    rows = math.ceil(len(panels) / columns)
    figure = Figure(figsize=(5 * columns, 3.8 * rows))
    for index, (title, group, _) in enumerate(panels):
        _quality_panel(figure.add_subplot(rows, columns, index + 1), title, group)
    return figure


def _efficiency_figure(frame: pd.DataFrame, table: int) -> Figure:
    panels = _panels(frame, table)
    columns = len(EFFICIENCY_METRICS)
    figure = Figure(figsize=(4 * columns, 3.4 * len(panels)))
    for row, (title, group, measured) in enumerate(panels):
        for column, (label, (ours, theirs, std)) in enumerate(EFFICIENCY_METRICS.items()):
            axes = figure.add_subplot(len(panels), columns, row * columns + column + 1)
            values = group[ours if measured else theirs]
            errors = (
                group[std].fillna(0).to_numpy() if measured and std and group[std].notna().any() else None
            )
            axes.bar(np.arange(len(group)), values.fillna(0), yerr=errors, capsize=2, color=f"C{column}")
            labels = _device_labels(group, measured and ours in TIMED_COLUMNS)
            axes.set_xticks(np.arange(len(group)), labels, fontsize=6)
            unit = " (M)" if measured else " (as printed, no unit)"
            axes.set_title(f"{title}\n{label}{unit if label == 'parameters' else ''}", fontsize=7)
    return figure


def _device_labels(group: pd.DataFrame, timed: bool) -> list[str]:
    """The bars' labels; a time measured on a GPU says so (not comparable with a CPU's)."""
    labels = _labels(group)
    if not timed or "device" not in group:
        return labels
    on_gpu = group.device.astype(str).str.contains("cuda")
    return [f"{name}\n(GPU)" if gpu else name for name, gpu in zip(labels, on_gpu, strict=True)]


def draw_figure(frame: pd.DataFrame, kind: str, table: int, number: int) -> Figure:
    """Figure ``number``: our Table ``table`` (``kind`` "quality" or "efficiency"); notes if none measured."""
    figure = (_quality_figure if kind == "quality" else _efficiency_figure)(frame, table)
    heading = f"Figure {number}: our Table {table} as bars, measured (ours) beside the paper's claims"
    if not (frame.source == "measured").any():
        heading += "\nNo measured runs yet: the paper's claimed numbers only"
    figure.suptitle(heading, fontsize=10)
    figure.tight_layout()
    return figure


def save_figure(figure: Figure, stem: Path) -> list[Path]:
    """``<stem>.png`` (dpi 150) and ``<stem>.svg``, each written atomically and without timestamps."""
    paths = []
    with matplotlib.rc_context(DETERMINISTIC):
        for suffix, metadata in (("png", {"Software": None}), ("svg", {"Date": None})):
            path = stem.with_name(f"{stem.name}.{suffix}")
            with atomic_path(path) as tmp:
                figure.savefig(tmp, format=suffix, dpi=150, metadata=metadata)
            paths.append(path)
    return paths


def write_figure(name: str, tables_dir: str | Path, figures_dir: str | Path) -> list[Path]:
    """One of ``FIGURES`` (e.g. "figure5_quality") from its table's CSV; returns its PNG and SVG."""
    table_name, kind, table = FIGURES[name]
    frame = pd.read_csv(Path(tables_dir) / f"{table_name}.csv")
    figure = draw_figure(frame, kind, table, int(name[len("figure")]))
    return save_figure(figure, Path(figures_dir) / name)


def write_figures(tables_dir: str | Path, figures_dir: str | Path) -> list[Path]:
    """Figures 5-9 from the table CSVs under ``tables_dir``; returns the files written.

    A figure whose table is not written yet (a campaign half done: Table 6
    before the ablation ran) is left out, as the report leaves out its table.
    """
    present = [name for name in FIGURES if (Path(tables_dir) / f"{FIGURES[name][0]}.csv").exists()]
    return [path for name in present for path in write_figure(name, tables_dir, figures_dir)]
