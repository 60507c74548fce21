"""Figures 5-9 drawn from the table CSVs (entity_bert.report.figures)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from entity_bert.report import figures
from entity_bert.report.figures import FIGURES, draw_figure, save_figure, write_figure, write_figures
from entity_bert.report.study_tables import quality_table, write_study_tables
from entity_bert.report.tables import write_table6

from .study_runs import make_run, make_study_runs

GROUPS = {"table2": ["maccrobat2020"], "table3": ["jnlpba"]}


@pytest.fixture(scope="module")
def tables_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tables")
    write_study_tables(make_study_runs(), GROUPS, folder, folder / "metrics.json", bootstrap_samples=50)
    cells = [
        make_run("maccrobat2020", "entity-bert", seed, skill) | {"cell": cell}
        for cell, skill in (("lstm", 0.9), ("gru", 0.7))
        for seed in (13, 14)
    ]
    write_table6(cells, folder)
    return folder


@pytest.mark.parametrize("name", list(FIGURES))
def test_write_figure_writes_png_and_svg(tables_dir, tmp_path, name):
    written = write_figure(name, tables_dir, tmp_path / "figures")
    assert [p.name for p in written] == [f"{name}.png", f"{name}.svg"]
    png, svg = (p.read_bytes() for p in written)
    assert png.startswith(b"\x89PNG") and len(png) > 1000
    assert b"<svg" in svg[:500] and len(svg) > 1000
    assert sorted((tmp_path / "figures").iterdir()) == sorted(written)  # no temporary files left


def test_write_figures_writes_figures_5_to_9(monkeypatch, tmp_path):
    drawn = []

    def fake(name, tables_dir, figures_dir):  # each figure is tested above; here only the loop
        drawn.append((name, tables_dir, figures_dir))
        return [Path(figures_dir) / f"{name}.png", Path(figures_dir) / f"{name}.svg"]

    monkeypatch.setattr(figures, "write_figure", fake)
    tables = tmp_path / "tables"
    tables.mkdir()
    for name in ("table2_quality", "table3_quality", "table4_efficiency", "table5_efficiency"):
        (tables / f"{name}.csv").write_text("source\n", "utf-8")
    written = write_figures(tables, tmp_path)
    names = ["figure5_quality", "figure6_quality", "figure7_efficiency", "figure8_efficiency"]
    assert drawn == [(name, tables, tmp_path) for name in names]  # Table 6 not written yet: no Figure 9
    assert [p.name for p in written] == [f"{n}.{s}" for n in names for s in ("png", "svg")]
    (tables / "table6_rnn_ablation.csv").write_text("source\n", "utf-8")
    drawn.clear()
    write_figures(tables, tmp_path)
    assert [name for name, *_ in drawn] == [*names, "figure9_rnn_ablation"]


def test_svg_is_identical_on_two_writes(tables_dir, tmp_path):
    frame = pd.read_csv(tables_dir / "table2_quality.csv")
    first = save_figure(draw_figure(frame, "quality", 2, 5), tmp_path / "a" / "figure5_quality")
    second = save_figure(draw_figure(frame, "quality", 2, 5), tmp_path / "b" / "figure5_quality")
    svg_a, svg_b = (paths[1].read_bytes() for paths in (first, second))
    assert svg_a == svg_b and b"<dc:date>" not in svg_a
    assert first[0].read_bytes() == second[0].read_bytes()


def test_panels_follow_the_table_and_label_claims(tables_dir):
    frame = pd.read_csv(tables_dir / "table2_quality.csv")
    figure = draw_figure(frame, "quality", 2, 5)
    titles = [axes.get_title() for axes in figure.axes]
    assert titles[0] == "measured: maccrobat2020"
    assert [t.startswith("claimed: ") and "Table 2" in t for t in titles[1:]] == [
        True,
        True,
    ]  # ACE 2004, 2005
    bars = [patch.get_height() for patch in figure.axes[0].patches]
    measured = frame[frame.source == "measured"]
    assert bars[: len(measured)] == pytest.approx(list(measured.precision_mean))  # P bars of each system
    efficiency = draw_figure(pd.read_csv(tables_dir / "table4_efficiency.csv"), "efficiency", 4, 7)
    assert len(efficiency.axes) == 3 * 4  # (measured corpus + 2 paper datasets) x 4 measures
    assert "no unit" in efficiency.axes[4].get_title()


def test_a_table_without_measured_rows_still_gives_a_figure(tmp_path):
    frame = quality_table([], [], 3)
    figure = draw_figure(frame, "quality", 3, 6)
    assert "No measured runs" in figure.get_suptitle()
    assert all(axes.get_title().startswith("claimed: ") for axes in figure.axes)
    paths = save_figure(figure, tmp_path / "figure6_quality")
    assert all(p.stat().st_size > 0 for p in paths)


def test_times_measured_on_a_gpu_are_marked_in_the_efficiency_figure(tables_dir):
    frame = pd.read_csv(tables_dir / "table4_efficiency.csv")
    gpu_row = frame.index[frame.source == "measured"][0]
    frame.loc[gpu_row, "device"] = "cuda"
    figure = draw_figure(frame, "efficiency", 4, 7)
    ticks = [[t.get_text() for t in figure.axes[i].get_xticklabels()] for i in range(4)]  # measured panels
    parameters, flops, inference, training = ticks
    assert not any("(GPU)" in t for t in parameters + flops)  # counts, not times: the same on any device
    assert [t.endswith("(GPU)") for t in inference] == [i == 0 for i in range(len(inference))]
    assert training == inference
