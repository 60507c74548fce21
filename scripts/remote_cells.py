"""Train a profile's cells on another machine (a lent GPU), and record them here afterwards.

    # there: the project's code and data/processed/, no DVC needed
    python scripts/remote_cells.py train --cells ncbi-disease__mrc__seed13 ablation/ncbi-disease__gru__seed13
                                         ... [--profile full] [--workers 8] [--deadline SECONDS]
                                         --out DIR [--logs DIR]
    # here: the bundle it wrote
    python scripts/remote_cells.py record DIR/cells.tar.gz

Some cells are too costly for a 2-core CPU (MRC and template NER: hours a cell,
``results/bench/cells.md``). On a machine with a GPU, ``train`` runs each
cell's own function (:func:`entity_bert.study.stages.train_run`, what its DVC
stage runs; for a Table 6 run, named ``ablation/<corpus>__<cell>__seed<seed>``,
:func:`entity_bert.study.ablation.ablation_result`) in parallel worker
processes, in the order given, and starts none after ``--deadline`` seconds
(a cell still running then is stopped and lost). After each epoch of a cell,
its progress (epochs, dev F1, training seconds) is printed and written to
``OUT/epochs.json``, so that a cell cut short at the deadline still tells what
an epoch costs there. Each cell that finishes is added to ``OUT/cells.tar.gz``
at once, so what finished comes back even if the machine is taken away: its
result folder and a manifest of what DVC would record, hashed there as DVC
hashes (a file's md5; a folder's md5 of its sorted file list): the inputs it
ran with and its checkpoint folder. The checkpoint itself (90 MB and more)
stays there, as it does not come with a fresh clone either.

``record`` unpacks the results and writes each cell's lock entry through
DVC's API, after checking that the inputs it ran with are the inputs here
(data, code list, parameters; they must be here, e.g. made by ``dvc repro
prepare``, as the campaign makes them); the checkpoint's hash comes from the
manifest. ``dvc repro --allow-missing`` then counts the cell done, as for any
cell whose checkpoint is missing. Each result JSON records the device it ran on.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import time
from contextlib import chdir
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: the project's package first

from entity_bert.study.layout import Layout, ablation_stage, parse_slot, train_stage  # noqa: E402

BUNDLE = "cells.tar.gz"
# A run's name: a study cell's slot (<corpus>__<system>__seed<seed>), or this prefix and a Table 6
# run's slot (ablation/<corpus>__<cell>__seed<seed>).
ABLATION = "ablation/"


def md5_file(path: Path) -> str:
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "md5").hexdigest()


def dvc_hash(path: Path) -> dict:
    """What DVC records for a file or folder: ``md5`` (a folder's ends in ``.dir``), and for a folder
    ``nfiles`` and ``size`` (dvc_data's tree digest: the md5 of the JSON list of its files' md5s)."""
    path = Path(path)
    if path.is_file():
        return {"md5": md5_file(path), "size": path.stat().st_size}
    files = sorted(p for p in path.rglob("*") if p.is_file())
    listing = [{"md5": md5_file(p), "relpath": p.relative_to(path).as_posix()} for p in files]
    listing.sort(key=lambda entry: entry["relpath"])
    digest = hashlib.md5(json.dumps(listing, sort_keys=True).encode("utf-8")).hexdigest()
    return {"md5": digest + ".dir", "nfiles": len(files), "size": sum(p.stat().st_size for p in files)}


def stage_name(profile: str, name: str) -> str:
    """The DVC stage of a study cell (its slot) or of a Table 6 run (``ablation/<slot>``)."""
    if name.startswith(ABLATION):
        return ablation_stage(profile, *parse_slot(name.removeprefix(ABLATION)))
    return train_stage(profile, *parse_slot(name))


def folders(layout: Layout, name: str) -> tuple[Path, Path]:
    """Where a study cell or a Table 6 run writes its result and its checkpoint (its stage's outputs)."""
    if name.startswith(ABLATION):
        slot, paths = name.removeprefix(ABLATION), layout.ablation_paths  # as ablation_config places them
        return Path(paths["runs_dir"]) / slot, Path(paths["checkpoints_dir"]) / slot
    return layout.run_folder(name), layout.checkpoint_folder(name)


def stage_inputs(profile: dict, name: str) -> tuple[list[str], dict]:
    """A stage's file inputs and the parameters it tracks, as ``pipelines/train/dvc.yaml`` lists them."""
    if name.startswith(ABLATION):
        corpus, _cell, _seed = parse_slot(name.removeprefix(ABLATION))
        files = [
            f"data/processed/{corpus}",
            f"data/encoder/{profile['profile']}",
            "entity_bert/study/ablation.py",
        ]
        files += ["pipelines/train/code/entity-bert.txt", "params/train.yaml"]
        return files, {key: profile["ablation"].get(key) for key in ("regime", "overrides", "train_params")}
    corpus, system, _seed = parse_slot(name)
    files = [f"data/processed/{corpus}", "entity_bert/study/stages.py", f"pipelines/train/code/{system}.txt"]
    files += ["params/train.yaml"]
    return files, {key: profile["study"].get(key) for key in ("run", "system_overrides")}


# --- there: train ---------------------------------------------------------------------------------


def train_one(profile_path: str, name: str) -> None:
    """One study cell or Table 6 run, in this process: train, then write its manifest beside its result."""
    from entity_bert.study.code import code_list
    from entity_bert.study.stages import load_profile, train_run, write_encoder

    profile = load_profile(profile_path)
    ablation = name.startswith(ABLATION)
    corpus, system, seed = parse_slot(name.removeprefix(ABLATION))
    encoder_made_here = ablation or profile["study"]["encoder"] == "tiny-random"  # else not an input
    if encoder_made_here and not Layout.of(profile).encoder.exists():
        write_encoder(profile)  # what its DVC stage makes here: a manifest (and tiny-random's weights)
    code = "entity-bert" if ablation else system  # Table 6's runs are Entity-BERT with another cell
    listed = ROOT / "pipelines" / "train" / "code" / f"{code}.txt"
    if code_list(code) != listed.read_text("utf-8"):
        raise SystemExit(f"{listed}: not the code here (run `entity-bert study code`)")
    if ablation:
        from entity_bert.study.ablation import AblationSettings, ablation_config, ablation_result

        settings = AblationSettings.load(profile_path)
        record = ablation_result(settings, ablation_config(settings, corpus, system, seed))
    else:
        record = train_run(profile, corpus, system, seed)
    write_manifest(profile, name, record.get("environment"))


def write_manifest(profile: dict, name: str, environment: dict | None, root: Path = ROOT) -> Path:
    """``<result folder>.remote.json``: the run's inputs and checkpoint, hashed as DVC hashes them."""
    result, checkpoint = folders(Layout.of(profile), name)
    files, settings = stage_inputs(profile, name)
    manifest = {
        "cell": name,
        "profile": profile["profile"],
        "settings": settings,
        "deps": {path: dvc_hash(root / path)["md5"] for path in files},
        "checkpoint": dvc_hash(root / checkpoint),
        "environment": environment,
    }
    path = root / result.with_suffix(".remote.json")
    path.write_text(json.dumps(manifest, indent=1), "utf-8")
    return path


def _bundle(out: Path, folder: Path, manifest: Path, root: Path = ROOT) -> None:
    """Add one finished cell (result folder and manifest) to ``out/cells.tar.gz``, atomically.

    The cells bundled before are copied from the old bundle, not read again from
    disk: a result folder removed after its cell finished (the device tool
    re-copies the working tree at each call, which drops files it does not have
    here) must not lose the cells already bundled, nor stop the others.
    """
    tmp, bundle = out / (BUNDLE + ".tmp"), out / BUNDLE
    with tarfile.open(tmp, "w:gz") as tar:
        if bundle.exists():
            with tarfile.open(bundle) as previous:
                for member in previous.getmembers():
                    tar.addfile(member, previous.extractfile(member) if member.isfile() else None)
        tar.add(folder, arcname=folder.relative_to(root).as_posix())
        tar.add(manifest, arcname=manifest.relative_to(root).as_posix())
    os.replace(tmp, bundle)


def epoch_states(layout, names: list[str], root: Path = ROOT) -> dict[str, dict]:
    """Each cell's training so far, from the engine's ``last/state.json``: epochs, dev F1, seconds."""
    states = {}
    for name in names:
        for path in sorted((root / folders(layout, name)[1]).glob("*/last/state.json")):
            try:
                state = json.loads(path.read_text("utf-8"))
            except (OSError, ValueError):  # being replaced right now: read it next time
                continue
            keys = ("epoch", "best_epoch", "best_f1", "training_s", "history")
            states[name] = {key: state.get(key) for key in keys}
    return states


def _report_epochs(out: Path, states: dict[str, dict], seen: dict[str, int], began: float) -> None:
    """Print each cell's new epochs and rewrite ``out/epochs.json`` when anything moved."""
    moved = {name: state for name, state in states.items() if state["epoch"] != seen.get(name)}
    for name, state in moved.items():
        seen[name] = state["epoch"]
        dev_f1 = state["history"][-1]["dev_f1"] if state["history"] else float("nan")
        print(
            f"{time.monotonic() - began:6.0f} s  {name}: epoch {state['epoch']}, dev F1 {dev_f1:.4f}, "
            f"{state['training_s']:.0f} s of training",
            flush=True,
        )
    if moved:
        tmp = out / "epochs.json.tmp"
        tmp.write_text(json.dumps(states, indent=1), "utf-8")
        os.replace(tmp, out / "epochs.json")


def train(profile_path: str, names: list[str], workers: int, deadline: float, out: Path, logs: Path) -> int:
    """Run the cells ``workers`` at a time, in order, until done or ``deadline`` seconds have passed."""
    from entity_bert.study.stages import load_profile

    layout = Layout.of(load_profile(profile_path))
    out.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    threads = max(1, (os.cpu_count() or 2) // workers)
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONUNBUFFERED": "1"}
    began, todo, running, finished, failed = time.monotonic(), list(names), {}, [], []
    seen: dict[str, int] = {}
    while running or (todo and time.monotonic() - began <= deadline):  # past it: none starts, all stop
        late = time.monotonic() - began > deadline
        while todo and len(running) < workers and not late:
            name = todo.pop(0)
            (logs / name).parent.mkdir(parents=True, exist_ok=True)  # logs/ablation/ for Table 6's runs
            log = open(logs / f"{name}.log", "w")  # noqa: SIM115 (closed when the cell ends)
            command = [sys.executable, __file__, "one", "--profile", profile_path, name]
            running[name] = (subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log), log)
            print(f"{time.monotonic() - began:6.0f} s  started {name}", flush=True)
        for name, (process, log) in list(running.items()):
            if late and process.poll() is None:
                process.kill()
            if process.poll() is None:
                continue
            log.close()
            del running[name]
            folder = ROOT / folders(layout, name)[0]
            bundled = False
            if process.returncode == 0:
                try:
                    _bundle(out, folder, folder.with_suffix(".remote.json"))
                    bundled = True
                except OSError as error:  # its files are gone: the cell is lost, not the others
                    print(f"{name}: could not be bundled: {error}", flush=True)
            (finished if bundled else failed).append(name)
            state = "done" if bundled else f"failed ({process.returncode})"
            state = "stopped at the deadline" if late and process.returncode < 0 else state
            print(f"{time.monotonic() - began:6.0f} s  {state} {name}", flush=True)
        _report_epochs(out, epoch_states(layout, names), seen, began)
        time.sleep(2)
    print(f"finished {len(finished)}, failed or stopped {len(failed)}, not started {len(todo)}", flush=True)
    return 0 if finished or not names else 1


# --- here: record ---------------------------------------------------------------------------------


def record(bundle: Path, root: Path = ROOT) -> list[str]:
    """Unpack the bundle's cells into results/ and write their lock entries; the stages recorded."""
    from dvc.repo import Repo
    from dvc_data.hashfile.hash_info import HashInfo
    from dvc_data.hashfile.meta import Meta

    from entity_bert.study.stages import load_profile

    profile = load_profile(root / "params" / "study.yaml")
    recorded = []
    with tarfile.open(bundle) as tar, chdir(root), Repo(root) as repo, repo.lock:  # addresses: from root
        manifests = [
            json.load(tar.extractfile(m)) for m in tar.getmembers() if m.name.endswith(".remote.json")
        ]
        stages = [_checked_stage(repo, manifest, profile, bundle) for manifest in manifests]  # all, first
        members = [m for m in tar.getmembers() if m.name.startswith("results/") and m.isfile()]
        results = [m for m in members if not m.name.endswith(".remote.json")]
        tar.extractall(root, members=results, filter="data")  # nothing outside the project
        for stage, manifest in zip(stages, manifests, strict=True):
            stage.save_outs(allow_missing=True)  # the result folder, hashed here; the checkpoint is not here
            checkpoint = next(out for out in stage.outs if out.def_path.startswith("checkpoints/"))
            hashed = manifest["checkpoint"]
            checkpoint.hash_info = HashInfo("md5", hashed["md5"])
            checkpoint.meta = Meta(isdir=True, nfiles=hashed["nfiles"], size=hashed["size"])
            stage.md5 = stage.compute_md5()
            stage.dvcfile.dump_stages([stage], update_pipeline=False)
            recorded.append(stage.addressing)
    return recorded


def _checked_stage(repo, manifest: dict, profile: dict, bundle: Path):
    """The cell's stage, its inputs hashed here; refused if the cell ran with other inputs or settings."""
    _check_profile(manifest, profile)
    stage = repo.stage.collect(stage_name(manifest["profile"], manifest["cell"]))[0]
    stage.save_deps()
    here = {dep.def_path: dep.hash_info.value for dep in stage.deps}
    changed = [path for path, md5 in manifest["deps"].items() if here.get(path) != md5]
    if changed:
        raise SystemExit(f"{bundle}: {manifest['cell']} ran with other inputs: {', '.join(changed)}")
    return stage


def _check_profile(manifest: dict, profile: dict) -> None:
    if manifest["profile"] != profile["profile"]:
        raise SystemExit(
            f"{manifest['cell']}: trained for profile {manifest['profile']}, active here: "
            f"{profile['profile']} (entity-bert study use {manifest['profile']})"
        )
    if manifest["settings"] != stage_inputs(profile, manifest["cell"])[1]:
        raise SystemExit(f"{manifest['cell']}: trained with other run settings than params/study.yaml's")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    run = verbs.add_parser("train", help="train cells here, in parallel, into a bundle")
    run.add_argument("--cells", nargs="+", required=True, help="slots: <corpus>__<system>__seed<seed>")
    run.add_argument("--profile", default="params/profiles/full.yaml", help="the profile's YAML")
    run.add_argument("--workers", type=int, default=8, help="cells at once")
    run.add_argument("--deadline", type=float, default=float("inf"), help="start none after, stop all")
    run.add_argument("--out", type=Path, required=True, help="where cells.tar.gz goes")
    run.add_argument("--logs", type=Path, help="each cell's log (default: OUT/logs)")
    one = verbs.add_parser("one", help="one cell in this process (what train's workers run)")
    one.add_argument("--profile", default="params/profiles/full.yaml")
    one.add_argument("cell")
    rec = verbs.add_parser("record", help="unpack a bundle here and record its cells in the lockfile")
    rec.add_argument("bundle", type=Path)
    args = parser.parse_args()
    if args.verb == "train":
        return train(
            args.profile, args.cells, args.workers, args.deadline, args.out, args.logs or args.out / "logs"
        )
    if args.verb == "one":
        train_one(args.profile, args.cell)
        return 0
    for stage in record(args.bundle):
        print(f"recorded {stage}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
