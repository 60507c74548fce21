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
- Resumable on another machine too. Ray's experiment folder (``storage``)
  holds checkpoints and is not committed, so every trial also writes its dev
  scores after each epoch to a small ledger (``ledger``, one JSON a grid point,
  committed as the sweep goes: ``scripts/campaign.py``). A trial whose point
  is in the ledger with the same settings, training defaults and code (a
  fingerprint) replays its epochs to the scheduler without training; if the
  scheduler lets it go further than its ledger, it trains again from the start
  (silently up to the epochs replayed) and goes on. ASHA is asynchronous
  (its decisions depend on the order reports arrive), so a replayed sweep
  may stop or continue a trial that the first one did not, never the
  scores of a trial already recorded. The best point's test runs are written
  beside the ledger, so they are not trained again either.
- Output: every trial's configuration and scores, and the best configuration
  (``results/tables/grid_search.{csv,md}``, ``results/figures/grid_search.{png,svg}``).
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
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
    storage: str = "results/tune"  # Ray's experiment: trial folders and checkpoints (not committed)
    ledger: str = "results/grid"  # each point's dev F1 per epoch, and the best point's test runs (committed)
    code_list: str = "pipelines/train/code/entity-bert.txt"  # the code of the trials' runs (its sha256s)
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
    """One grid point: train with the engine, report dev F1 after every epoch (Ray trainable).

    Epochs already in the ledger (an earlier sweep, maybe on another machine) are reported again
    without training; training starts only if the scheduler lets the trial go beyond them.
    """
    from ray import tune

    from entity_bert.training.engine import Run

    settings = point["settings"]
    if settings["inject_failure"] == [point[k] for k in GRID_KEYS]:
        marker = Path(settings["storage"]) / f"failed-once-{point['lr']}-{point['hidden']}"
        if not marker.exists():  # fault injection for the tests: the retry must succeed
            marker.touch()
            raise RuntimeError("injected failure")
    history = ledger_history(settings, point)
    for scores in history:
        tune.report(scores)
    if len(history) >= point["epochs"]:
        return
    trial_dir = Path(tune.get_context().get_trial_dir())
    run = Run(_run_config(settings, point, trial_dir))

    def report(state: dict) -> None:
        if state["epoch"] <= len(history):  # trained again up to what was replayed
            return
        last = state["history"][-1]
        scores = {"epoch": state["epoch"], "dev_f1": last["dev_f1"], "best_dev_f1": state["best_f1"]}
        history.append(scores)
        write_ledger(settings, point, history)
        tune.report(scores)

    run.train(on_epoch=report)


# --- the ledger: each grid point's dev scores per epoch, committed, so a sweep resumes anywhere --------


# settings that say where things are or how the sweep is run, not what a trial computes
_LOCAL = {
    *("storage", "ledger", "code_list", "processed_dir", "features_dir", "train_params"),
    *("tables_dir", "figures_dir", "name", "num_cpus", "cpus_per_trial", "max_failures", "inject_failure"),
    *("grid", "scheduler", "grace_period", "reduction_factor", "retrain_seeds"),
}


def point_key(point: dict) -> str:
    """A grid point's file name in the ledger: ``lr0.001-hidden128-batch_size64-epochs20``."""
    return "-".join(f"{key}{point[key]:g}" for key in GRID_KEYS)


def ledger_path(settings: dict, point: dict) -> Path:
    return Path(settings["ledger"]) / "trials" / f"{point_key(point)}.json"


def fingerprint(settings: dict) -> str:
    """What a trial's scores depend on besides its point: the sweep's settings (not its paths), the
    training defaults and the code of the runs (their sha256 list); a ledger entry counts only if equal."""
    kept = {key: value for key, value in settings.items() if key not in _LOCAL}
    digest = hashlib.sha256(json.dumps(kept, sort_keys=True, default=str).encode("utf-8"))
    for key in ("train_params", "code_list"):
        path = Path(settings[key])
        digest.update(path.read_bytes() if path.is_file() else b"")
    return digest.hexdigest()


def ledger_history(settings: dict, point: dict) -> list[dict]:
    """The point's recorded epochs (``epoch``, ``dev_f1``, ``best_dev_f1``), or none if absent or stale."""
    path = ledger_path(settings, point)
    if not path.is_file():
        return []
    entry = json.loads(path.read_text("utf-8"))
    return entry["history"] if entry.get("fingerprint") == fingerprint(settings) else []


def write_ledger(settings: dict, point: dict, history: list[dict]) -> None:
    entry = {
        "point": {key: point[key] for key in GRID_KEYS},
        "fingerprint": fingerprint(settings),
        "history": history,
    }
    atomic_write_text(ledger_path(settings, point), json.dumps(entry, indent=1) + "\n")


def _absolute(settings: TuneSettings) -> dict:
    """Settings with absolute paths (trials run in their own working folders)."""
    content = asdict(settings)
    paths = ("storage", "ledger", "code_list", "processed_dir", "features_dir", "train_params")
    for key in (*paths, "tables_dir", "figures_dir"):
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
    tested = retrain_best(table, asdict(settings), settings.retrain_seeds)
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

    A run already done (its result JSON with the same configuration, beside the ledger) is read,
    not trained again, so an interrupted retraining resumes. ``settings`` are the sweep's as written
    (paths relative to the project), so that a result is found in another clone too.
    """
    from entity_bert.training.evaluation import train_unless_done

    point = best_point(table)
    if point is None or not seeds:
        return pd.DataFrame()
    rows = []
    for seed in seeds:
        folder = Path(settings["storage"]) / f"{settings['name']}-best" / f"seed{seed}"
        config = _run_config({**settings, "seed": seed}, point, folder)
        config = replace(config, runs_dir=str(Path(settings["ledger"]) / "best" / f"seed{seed}"))  # committed
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
