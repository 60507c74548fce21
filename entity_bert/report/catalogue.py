"""The study's tables: one row each, read by the report, the figures and the verdicts.

Each table is written as ``results/tables/<name>.{csv,md}`` by the stage that
makes it; a row says which of the paper's tables it sets ours beside, which
figure draws it (``results/figures/<figure>.{png,svg}``) and which of the
paper's claims (numbered as in ``results/REPORT.md``) its verdicts read.
Adding a table: its writer, one row here, its stage in ``dvc.yaml``
(``CONTRIBUTING.md``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StudyTable:
    name: str  # file stem under results/tables
    paper_table: int | None = None  # the paper's table it stands beside
    figure: str | None = None  # the figure that draws it (file stem under results/figures)
    figure_kind: str | None = None  # quality | efficiency: how the figure draws it (None: its own writer)
    claims: tuple[int, ...] = ()  # the report's claims whose verdicts read it


TABLES = [
    StudyTable("table1_corpus_stats", 1),
    StudyTable("table2_quality", 2, "figure5_quality", "quality", (1, 2)),
    StudyTable("table3_quality", 3, "figure6_quality", "quality", (1, 2)),
    StudyTable("table4_efficiency", 4, "figure7_efficiency", "efficiency", (4,)),
    StudyTable("table5_efficiency", 5, "figure8_efficiency", "efficiency", (4,)),
    StudyTable("table6_rnn_ablation", 6, "figure9_rnn_ablation", "quality", (5,)),
    StudyTable("significance", claims=(3,)),
    StudyTable("decoding"),  # argmax against constrained decoding, strict and conlleval F1
    StudyTable("cells"),  # the profile's training cells: done, missing, and the machines they ran on
    StudyTable("grid_search", figure="grid_search", claims=(6,)),  # table and figure: entity-bert tune
]
TABLE_NAMES = [table.name for table in TABLES]
FIGURE_NAMES = [table.figure for table in TABLES if table.figure]
# figure -> (table it draws, kind, the paper's table number), for the figures drawn from a table's CSV
DRAWN_FIGURES = {t.figure: (t.name, t.figure_kind, t.paper_table) for t in TABLES if t.figure_kind}


def claim_links(claim: int) -> tuple[list[str], list[str]]:
    """The tables (.md) and figures (.png) behind one of the report's claims."""
    behind = [table for table in TABLES if claim in table.claims]
    return [t.name for t in behind], [t.figure for t in behind if t.figure]
