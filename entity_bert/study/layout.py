"""Where each study profile keeps its outputs: a folder of its own, so profiles never overwrite each other.

Every profile (``params/profiles/<name>.yaml``) writes under folders named
after it, and ``dvc.yaml`` spells the same paths with ``${profile}``:

=========================  ==============================================
``data/encoder/<p>``       the profile's encoder (a manifest, or tiny weights)
``data/features/<p>/``     cached encoder features (frozen regime): one
                           folder a corpus, plus ``ablation/`` and ``tune/``
``checkpoints/<p>/``       best checkpoints: ``<slot>/`` a training cell,
                           ``ablation/`` the RNN ablation's runs
``models/<p>/<slot>``      the run exported for raw text
``results/<p>/``           ``runs/<slot>/`` result JSONs, ``ablation/``,
                           ``tune/`` (Ray's trials, not committed), ``grid/``
                           (the grid's ledger), ``tables/``, ``figures/``,
                           ``notebooks/``, ``metrics.json``, ``f1/`` (the cells
                           ``dvc metrics show`` lists),
                           ``raw_text/`` and the profile's report
=========================  ==============================================

A profile's report goes where its ``report`` key says: the main profile's
(``full``) is the project's front page, ``results/REPORT.md``; the others'
are ``results/<p>/REPORT.md``. DVC stages that read a profile are named with it
(``train@full-ncbi-disease-bert-13``, ``tables@default``), so the lockfiles
keep every profile's state side by side and switching profiles recomputes
nothing that is done.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


def slot(corpus: str, system: str, seed: int) -> str:
    """The name of a training cell's folders; ``pipelines/train/dvc.yaml`` spells the same pattern."""
    return f"{corpus}__{system}__seed{seed}"


def parse_slot(name: str) -> tuple[str, str, int]:
    """A slot's ``(corpus, system, seed)``: :func:`slot` undone."""
    corpus, system, seed = name.split("__")
    if not seed.startswith("seed"):
        raise ValueError(f"{name}: not a cell's slot (<corpus>__<system>__seed<seed>)")
    return corpus, system, int(seed.removeprefix("seed"))


def train_stage(profile: str, corpus: str, system: str, seed: int) -> str:
    """A training cell's DVC stage, addressed from the project root."""
    return f"pipelines/train/dvc.yaml:train@{profile}-{corpus}-{system}-{seed}"


def ablation_stage(profile: str, corpus: str, cell: str, seed: int) -> str:
    """A Table 6 run's DVC stage, addressed from the project root."""
    return f"pipelines/train/dvc.yaml:ablation_run@{profile}-{corpus}-{cell}-{seed}"


@dataclass(frozen=True)
class Layout:
    """The output folders of one profile (paths relative to the project root)."""

    profile: str
    report: Path  # the profile's report page

    @classmethod
    def of(cls, profile: dict) -> Layout:
        """A parsed profile's layout: its ``profile`` key names it, its ``report`` key places the report."""
        name = profile["profile"]
        return cls(name, Path(profile.get("report") or f"results/{name}/REPORT.md"))

    @property
    def results(self) -> Path:
        return Path("results") / self.profile

    @property
    def runs(self) -> Path:
        return self.results / "runs"

    @property
    def checkpoints(self) -> Path:
        return Path("checkpoints") / self.profile

    @property
    def features(self) -> Path:
        return Path("data/features") / self.profile

    @property
    def encoder(self) -> Path:
        return Path("data/encoder") / self.profile

    @property
    def tables(self) -> Path:
        return self.results / "tables"

    @property
    def figures(self) -> Path:
        return self.results / "figures"

    @property
    def metrics_json(self) -> Path:
        return self.results / "metrics.json"

    @property
    def metrics(self) -> Path:
        return self.results / "f1"  # short: `dvc metrics show` keeps its rows within 80 columns

    def run_folder(self, cell: str) -> Path:
        """A training cell's result folder (``cell``: its :func:`slot`)."""
        return self.runs / cell

    def checkpoint_folder(self, cell: str) -> Path:
        return self.checkpoints / cell

    def model_folder(self, cell: str) -> Path:
        """Where the raw-text stage exports a cell's run as a model directory."""
        return Path("models") / self.profile / cell

    @property
    def ablation_paths(self) -> dict[str, str]:
        """The RNN ablation's run, checkpoint and feature folders, as run settings."""
        return {
            "runs_dir": str(self.results / "ablation"),
            "checkpoints_dir": str(self.checkpoints / "ablation"),
            "features_dir": str(self.features / "ablation"),
        }

    @property
    def tune_paths(self) -> dict[str, str]:
        """The grid search's trial storage (Ray's, not committed), its ledger of trials (committed), feature
        cache and outputs, as its settings."""
        return {
            "storage": str(self.results / "tune"),
            "ledger": str(self.results / "grid"),
            "features_dir": str(self.features / "tune"),
            "tables_dir": str(self.tables),
            "figures_dir": str(self.figures),
        }
