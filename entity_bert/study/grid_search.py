"""``entity-bert tune``: the paper's grid search, with Ray Tune.

The paper (section 4.2) grid-searched the LSTM's learning rate, hidden units,
batch size and epochs and reports the best point: 0.001, 128, 64 and 20. We
search a grid that contains that point (``params/study.yaml``) with
``tune.Tuner`` and ``tune.grid_search``; each trial is one run of our training
engine (:class:`entity_bert.training.engine.Run`, the ``frozen`` regime by default, so
that a trial costs seconds to minutes on a CPU) and reports its dev F1 after
every epoch.

- Local or cluster, same code: ``ray.init(num_cpus=...)`` here, or the
  cluster named by ``--address`` / ``$RAY_ADDRESS`` (paths must then be on
  storage every node sees).
- A failed trial is retried (``FailureConfig(max_failures=...)``) and never
  stops the sweep; an interrupted sweep resumes with ``Tuner.restore``:
  finished trials are kept, unfinished ones continue from the run's own
  last epoch checkpoint.
- Output: every trial's configuration and scores, and the best configuration
  (``results/tables/grid_search.{csv,md}``, ``results/figures/grid_search.{png,svg}``).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from entity_bert.core.fileio import atomic_write_text
from entity_bert.study.layout import Layout

GRID_KEYS = ("lr", "hidden", "batch_size", "epochs")


@dataclass
class TuneSettings:
    """What to search, on what, and where (``tune`` block of ``params/study.yaml``)."""

    corpus: str = "maccrobat2020"
    label_set: str | None = None
    model: str = "entity-bert"
    regime: str = "frozen"
    cell: str = "lstm"
    grid: dict[str, list] = field(
        default_factory=lambda: {"lr": [1e-3], "hidden": [128], "batch_size": [64], "epochs": [20]}
    )
    seed: int = 13
    encoder: dict = field(default_factory=dict)
    max_train_sentences: int | None = None
    max_eval_sentences: int | None = None
    num_cpus: int = 2
    cpus_per_trial: float = 1
    max_failures: int = 2
    name: str = "grid"
    storage: str = "results/tune"
    processed_dir: str = "data/processed"
    features_dir: str = "data/features"
    train_params: str = "params/train.yaml"  # the defaults under the grid's settings (resolve)
    tables_dir: str = "results/tables"
    figures_dir: str = "results/figures"
    inject_failure: list | None = None  # tests only: this grid point's first attempt raises once

    @classmethod
    def load(cls, path: str | Path) -> TuneSettings:
        """The profile's ``tune`` block; storage and outputs in the profile's folders (:class:`Layout`)."""
        profile = yaml.safe_load(Path(path).read_text("utf-8"))
        return cls(**{**Layout.of(profile).tune_paths, **profile["tune"]})


def _run_config(settings: dict, point: dict, trial_dir: Path):
    from entity_bert.runs.config import resolve

    run = {
        "corpus": settings["corpus"],
        "label_set": settings["label_set"],
        "model": {"name": settings["model"], "hidden": point["hidden"], "cell": settings["cell"]},
        "regime": settings["regime"],
        "seed": settings["seed"],
        "encoder": settings["encoder"] or {},
        "epochs": point["epochs"],
        "patience": point["epochs"],  # a grid point trains for its number of epochs
        "lr": point["lr"],
        "batch_size": point["batch_size"],
        "max_train_sentences": settings["max_train_sentences"],
        "max_eval_sentences": settings["max_eval_sentences"],
        "processed_dir": settings["processed_dir"],
        "features_dir": settings["features_dir"],
        "checkpoints_dir": str(trial_dir / "checkpoints"),
        "runs_dir": str(trial_dir / "runs"),
    }
    return resolve(run, params=settings["train_params"])


def trial(point: dict) -> None:
    """One grid point: train with the engine, report dev F1 after every epoch (Ray trainable)."""
    from ray import tune

    from entity_bert.training.engine import Run

    settings = point["settings"]
    if settings["inject_failure"] == [point[k] for k in GRID_KEYS]:
        marker = Path(settings["storage"]) / f"failed-once-{point['lr']}-{point['hidden']}"
        if not marker.exists():  # fault injection for the tests: the retry must succeed
            marker.touch()
            raise RuntimeError("injected failure")
    trial_dir = Path(tune.get_context().get_trial_dir())
    run = Run(_run_config(settings, point, trial_dir))

    def report(state: dict) -> None:
        last = state["history"][-1]
        tune.report({"epoch": state["epoch"], "dev_f1": last["dev_f1"], "best_dev_f1": state["best_f1"]})

    run.train(on_epoch=report)


def _absolute(settings: TuneSettings) -> dict:
    """Settings with absolute paths (trials run in their own working folders)."""
    content = asdict(settings)
    for key in ("storage", "processed_dir", "features_dir", "train_params", "tables_dir", "figures_dir"):
        content[key] = str(Path(content[key]).resolve())
    encoder = content["encoder"].get("name")
    if encoder and Path(encoder).is_dir():  # a local checkpoint folder, not a packaged or hub name
        content["encoder"] = {**content["encoder"], "name": str(Path(encoder).resolve())}
    return content


def _warm_cache(settings: dict) -> None:
    """Compute the frozen features once, before trials share them."""
    if settings["regime"] != "frozen":
        return
    from entity_bert.training.engine import Run

    point = {"lr": 1e-3, "hidden": 8, "batch_size": 8, "epochs": 1}
    run = Run(_run_config(settings, point, Path(settings["storage"]) / "warm-up"))
    run.examples("train", cached=True)
    run.examples("dev", cached=True)


def run_grid(settings: TuneSettings, address: str | None = None) -> pd.DataFrame:
    """Run (or resume) the sweep; write the grid-search table and figure; return the table."""
    import ray
    from ray import tune

    absolute = _absolute(settings)
    address = address or os.environ.get("RAY_ADDRESS")
    with ThreadPoolExecutor(max_workers=1) as pool:
        warming = pool.submit(_warm_cache, absolute)  # while Ray starts (seconds of waiting on its processes)
        ray.init(
            address=address,
            num_cpus=None if address else settings.num_cpus,
            include_dashboard=False,
            ignore_reinit_error=True,
            log_to_driver=False,
        )
        warming.result()
    path = Path(absolute["storage"]) / settings.name
    trainable = tune.with_resources(trial, {"cpu": settings.cpus_per_trial})
    if tune.Tuner.can_restore(path):
        tuner = tune.Tuner.restore(str(path), trainable, resume_errored=True)
    else:
        space = {key: tune.grid_search(list(values)) for key, values in settings.grid.items()}
        tuner = tune.Tuner(
            trainable,
            param_space={**space, "settings": absolute},
            tune_config=tune.TuneConfig(metric="best_dev_f1", mode="max"),
            run_config=tune.RunConfig(
                name=settings.name,
                storage_path=absolute["storage"],
                failure_config=tune.FailureConfig(max_failures=settings.max_failures),
                verbose=0,
            ),
        )
    results = tuner.fit()
    table = grid_table(results)
    write_grid_outputs(table, settings)
    return table


def grid_table(results) -> pd.DataFrame:
    """One row per trial: its grid point, best and last dev F1, epochs run, status."""
    rows = []
    for result in results:
        metrics = result.metrics or {}
        rows.append(
            {key: result.config[key] for key in GRID_KEYS}
            | {
                "best_dev_f1": metrics.get("best_dev_f1"),
                "last_dev_f1": metrics.get("dev_f1"),
                "epochs_run": metrics.get("epoch"),
                "status": "error" if result.error else "ok",
            }
        )
    return pd.DataFrame(rows).sort_values(list(GRID_KEYS)).reset_index(drop=True)


def write_grid_outputs(table: pd.DataFrame, settings: TuneSettings) -> None:
    """``grid_search.{csv,md}`` and a bar chart of every trial's best dev F1."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tables, figures = Path(settings.tables_dir), Path(settings.figures_dir)
    atomic_write_text(tables / "grid_search.csv", table.to_csv(index=False))
    best = table.loc[table.best_dev_f1.idxmax()] if table.best_dev_f1.notna().any() else None
    summary = "no trial finished" if best is None else ", ".join(f"{k} {best[k]}" for k in GRID_KEYS)
    page = [
        f"# Grid search: {settings.model} ({settings.cell}), {settings.regime} regime, "
        f"{settings.corpus}, seed {settings.seed}",
        "",
        f"Metric: best dev entity F1 (seqeval strict, IOB2) over each trial's epochs. Best point: {summary}. "
        "The paper's reported best: lr 0.001, hidden 128, batch size 64, epochs 20 (claimed, section 4.2).",
        "",
        table.to_markdown(index=False),
        "",
    ]
    atomic_write_text(tables / "grid_search.md", "\n".join(page))
    labels = [f"lr={r.lr:g} h={r.hidden} b={r.batch_size} e={r.epochs}" for r in table.itertuples()]
    figure, axes = plt.subplots(figsize=(8, 0.3 * len(table) + 1.5))
    axes.barh(labels, table.best_dev_f1.fillna(0.0), color="tab:blue")
    axes.set_xlabel("best dev entity F1")
    axes.set_title(f"Grid search, {settings.corpus} ({settings.regime})")
    figure.tight_layout()
    figures.mkdir(parents=True, exist_ok=True)
    for suffix in ("png", "svg"):
        figure.savefig(figures / f"grid_search.{suffix}")
    plt.close(figure)
