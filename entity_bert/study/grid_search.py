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
    run: dict = field(default_factory=dict)  # other run settings, e.g. the encoder's lr when fine-tuning
    scheduler: str = "fifo"  # fifo: every trial to its end; asha: weak trials stopped early (ASHA)
    grace_period: int = 1  # asha: epochs every trial runs before it can be stopped
    reduction_factor: int = 3  # asha: about 1 in this many trials goes on at each rung
    retrain_seeds: list[int] = field(default_factory=list)  # the best point trained again and tested
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
        **settings["run"],
        "corpus": settings["corpus"],
        "label_set": settings["label_set"],
        "model": {"name": settings["model"], "hidden": point["hidden"], "cell": settings["cell"]},
        "regime": settings["regime"],
        "seed": settings["seed"],
        "encoder": settings["encoder"] or {},
        "epochs": point["epochs"],
        "patience": point["epochs"],  # a grid point trains for its number of epochs
        "head_lr": point["lr"],  # the layers above the encoder (the paper searched the LSTM's)
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
            tune_config=tune.TuneConfig(metric="best_dev_f1", mode="max", scheduler=_scheduler(settings)),
            run_config=tune.RunConfig(
                name=settings.name,
                storage_path=absolute["storage"],
                failure_config=tune.FailureConfig(max_failures=settings.max_failures),
                verbose=0,
            ),
        )
    results = tuner.fit()
    table = grid_table(results)
    tested = retrain_best(table, absolute, settings.retrain_seeds)
    write_grid_outputs(table, settings, tested)
    return table


def _scheduler(settings: TuneSettings):
    """FIFO (every trial runs its epochs) or ASHA over epochs (Li et al. 2020, MLSys: asynchronous
    successive halving): at each rung (``grace_period`` x ``reduction_factor``^k epochs) a trial
    goes on only if its dev F1 is in the top 1/``reduction_factor`` of the trials that reached it."""
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler

    if settings.scheduler == "fifo":
        return FIFOScheduler()
    if settings.scheduler != "asha":
        raise ValueError(f"scheduler must be fifo or asha, not {settings.scheduler!r}")
    return ASHAScheduler(
        time_attr="epoch",
        max_t=max(settings.grid["epochs"]),
        grace_period=settings.grace_period,
        reduction_factor=settings.reduction_factor,
    )


def best_point(table: pd.DataFrame) -> dict | None:
    """The grid point of the best dev F1 (the first of equals, in the table's order)."""
    if not table.best_dev_f1.notna().any():
        return None
    best = table.loc[table.best_dev_f1.idxmax()]
    return {key: best[key].item() if hasattr(best[key], "item") else best[key] for key in GRID_KEYS}


def retrain_best(table: pd.DataFrame, settings: dict, seeds: list[int]) -> pd.DataFrame:
    """The best point trained again with each of ``seeds`` and scored on test (one row per seed).

    A run already done (its result JSON with the same configuration) is read,
    not trained again, so an interrupted retraining resumes.
    """
    from entity_bert.training.evaluation import train_unless_done

    point = best_point(table)
    if point is None or not seeds:
        return pd.DataFrame()
    rows = []
    for seed in seeds:
        folder = Path(settings["storage"]) / f"{settings['name']}-best" / f"seed{seed}"
        config = _run_config({**settings, "seed": seed}, point, folder)
        record = train_unless_done(config)
        micro = record["decodings"]["constrained"]["scores"]["micro"]
        rows.append(
            point
            | {"seed": seed, "test_precision": micro["precision"], "test_recall": micro["recall"]}
            | {"test_f1": micro["f1"], "dev_f1": record["dev_scores"]["micro"]["f1"]}
        )
    return pd.DataFrame(rows)


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
                "status": _status(result, metrics),
            }
        )
    return pd.DataFrame(rows).sort_values(list(GRID_KEYS)).reset_index(drop=True)


def _status(result, metrics: dict) -> str:
    if result.error:
        return "error"
    stopped = metrics.get("epoch") is not None and metrics["epoch"] < result.config["epochs"]
    return "stopped early" if stopped else "ok"  # stopped by the scheduler (ASHA) before its last epoch


def _tested_lines(tested: pd.DataFrame) -> list[str]:
    """The best point trained again with several seeds and scored on test."""
    if tested.empty:
        return []
    f1 = tested.test_f1
    spread = f" +- {f1.std(ddof=1):.4f}" if len(f1) > 1 else ""
    return [
        f"## The best point, trained again with {len(tested)} seed(s) and tested",
        "",
        f"Test entity F1 (seqeval strict, IOB2, constrained decoding): mean {f1.mean():.4f}{spread} "
        f"over seeds {', '.join(str(s) for s in tested.seed)}.",
        "",
        tested.to_markdown(index=False),
        "",
    ]


def write_grid_outputs(
    table: pd.DataFrame, settings: TuneSettings, tested: pd.DataFrame | None = None
) -> None:
    """``grid_search.{csv,md}`` (and the best point's test runs, if any) and a chart of the dev F1s."""
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
        f"Metric: best dev entity F1 (seqeval strict, IOB2) over each trial's epochs; scheduler "
        f"{settings.scheduler} (`stopped early`: ASHA stopped the trial at a rung). Best point: {summary}. "
        "The paper's reported best: lr 0.001, hidden 128, batch size 64, epochs 20 (claimed, section 4.2).",
        "",
        table.to_markdown(index=False),
        "",
        *_tested_lines(tested if tested is not None else pd.DataFrame()),
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
