"""Run a profile's training cells in the campaign's order, committing each one as it finishes.

    python scripts/campaign.py [--profile full] [--steps 1 2 3 4] [--systems S ...]
                               [--stop-after MINUTES] [--dry-run]

The full profile is many hours of training on a CPU, more than one session
holds, so it runs as a campaign of cells (DVC stages), in this order:

1. Entity-BERT, BERT and the Hugging Face reference on every corpus, first seed;
2. MRC, biaffine, template NER and CONTaiNER, first seed;
3. the other seeds, every system;
4. Table 6: the RNN ablation's runs;
5. the grid search (``entity-bert tune``, outside DVC's lock: Ray may spread
   it over a cluster), recorded afterwards with ``dvc commit``. Its trials'
   dev scores (the ledger, ``results/<profile>/grid``) are committed every
   10 minutes while it runs, so that a sweep cut short resumes on another
   machine without training again what it recorded.

A cell whose stage is in the lockfile with its result written, and which
``dvc repro --dry --allow-missing`` would not run (nothing it depends on
changed: its system's code list, data, parameters), is done and skipped;
any other is ``dvc repro <stage>``, which first remakes what it
needs that a fresh clone lacks (the corpora, the encoder). After each cell,
the profile's tables, figures and report are drawn again from the cells done
so far by the stages' own commands (missing cells shown as missing: the cells
table; ``dvc repro`` records those stages once every cell is done), and the
cell's results, the lockfiles and the report are committed to git. An
interrupted campaign starts again where it stopped, on any machine. Progress:
cells done of all, and an ETA from the mean time of the cells run so far.

A cell cut short (a session's end stops every process) resumes from its last
epoch on the machine that holds its checkpoint. ``dvc repro`` would delete the
checkpoint and train from scratch, so before a cell starts the campaign makes
what it needs (its data stages) and writes down its inputs as DVC sees them
(command, dependency hashes, parameters) beside the checkpoint folder
(``<checkpoint>.campaign.json``). When it finds that record still equal to the
cell's inputs and an epoch checkpoint (``last/``), it runs the cell's own
command, which resumes and ends as an uninterrupted run would, then records it
with ``dvc commit``. If anything the cell depends on changed, the record
differs and the cell is trained again from scratch.

``--systems`` and ``--corpora`` keep the training cells of those systems and
corpora only (a cell that cannot finish within a session on this machine can
be left to one that can: ``--systems mrc --corpora ncbi-disease bc5cdr``), and
``--stop-after`` starts no cell after that many minutes (a cell cut short
loses its unfinished epoch, and all of it on a machine other than its own).

On a 2-core CPU the order above would stall at step 2: MRC reads a sentence
once per entity type and template NER scores every span with every template,
so per sentence they cost several BERT training steps and (template NER) a
hundred-odd BERT predictions; together about three quarters of the compute
left after step 1 (``entity-bert bench --cells full`` projects each cell from
timed slices: ``results/bench/cells.md``). There the campaign runs as two
calls, the systems that cost about a BERT through every step first, then the
costliest two:

    python scripts/campaign.py --steps 1 2 3 4 5 --systems entity-bert bert biaffine container hf-trainer
    python scripts/campaign.py --steps 2 3 --systems mrc template

or the costliest two on a machine with a GPU (``scripts/remote_cells.py``:
trained there, recorded here, then skipped here as done).
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import yaml

from entity_bert.core.fileio import atomic_write_text
from entity_bert.study.layout import ablation_stage, train_stage

ROOT = Path(__file__).resolve().parents[1]
FIRST = ("entity-bert", "bert", "hf-trainer")
COMMIT_EVERY_S = 600  # the grid search's ledger, committed this often while it runs


def cells(
    profile: dict, step: int, only: list[str] | None = None, corpora: list[str] | None = None
) -> list[str]:
    """The DVC stages of one step of the campaign, in order.

    ``only`` keeps these systems' training cells, ``corpora`` the training cells on these corpora;
    Table 6's runs are kept either way.
    """
    name, study = profile["profile"], profile["study"]
    first, others = study["seeds"][0], study["seeds"][1:]

    def train(systems, seeds):
        return [
            train_stage(name, corpus, system, seed)
            for seed in seeds
            for system in systems
            if only is None or system in only
            for corpus in study["corpora"]
            if corpora is None or corpus in corpora
        ]

    if step == 1:
        return train([s for s in study["systems"] if s in FIRST], [first])
    if step == 2:
        return train([s for s in study["systems"] if s not in FIRST], [first])
    if step == 3:
        return train(study["systems"], others)
    if step == 4:
        ablation = profile["ablation"]
        return [
            ablation_stage(name, corpus, cell, seed)
            for seed in ablation["seeds"]
            for cell in ablation["cells"]
            for corpus in ablation["corpora"]
        ]
    return []


def is_done(stage: str) -> bool:
    """Whether a cell's stage is in the training lockfile and its result folder holds a result."""
    path = ROOT / "pipelines" / "train" / "dvc.lock"
    lock = (yaml.safe_load(path.read_text("utf-8")) if path.exists() else None) or {}
    entry = (lock.get("stages") or {}).get(stage.split(":")[-1])
    if not entry:
        return False
    results = [out["path"] for out in entry.get("outs", []) if out["path"].startswith("results/")]
    if not all(any((ROOT / path).glob("*.json")) for path in results):
        return False
    # and nothing it depends on changed since (its code, data, parameters): only outputs may be missing
    dry = ["dvc", "repro", "--dry", "--allow-missing", "--single-item", stage]
    answer = subprocess.run(dry, cwd=ROOT, capture_output=True, text=True)
    return answer.returncode == 0 and "Running stage" not in answer.stdout


def _stage(repo, target: str):
    return repo.stage.collect(target)[0]


def _checkpoint(stage) -> Path:
    """The cell's checkpoint folder (its output under ``checkpoints/``)."""
    return next(ROOT / out.def_path for out in stage.outs if out.def_path.startswith("checkpoints/"))


def prepare(target: str, dry: bool) -> int:
    """Make what the cell depends on that is missing here (corpora, encoder, features) by its own stages."""
    from dvc.exceptions import OutputNotFoundError
    from dvc.repo import Repo

    producers = set()
    with Repo(ROOT) as repo:
        for dep in _stage(repo, target).deps:
            if not (ROOT / dep.def_path).exists():
                with suppress(OutputNotFoundError):  # no stage makes it: dvc repro says so
                    outs = repo.find_outs_by_path(dep.def_path, strict=False)  # the output, or one holding it
                    producers |= {out.stage.addressing for out in outs}
    producers = sorted(producers)
    return next((code for producer in producers if (code := run(["dvc", "repro", producer], dry))), 0)


def inputs(target: str) -> tuple[dict, Path]:
    """The cell's inputs as its lock entry would record them now, and its checkpoint folder."""
    from dvc.repo import Repo

    with Repo(ROOT) as repo:
        stage = _stage(repo, target)
        stage.save_deps(allow_missing=True)  # a missing one records None, so it never matches a later hash
        hashes = {dep.def_path: dep.hash_info.value for dep in stage.deps}
        return {"stage": target, "cmd": stage.cmd, "deps": hashes}, _checkpoint(stage)


def _record(folder: Path) -> Path:
    """Where a cell's inputs are written down when it starts: beside its checkpoint, which repro deletes."""
    return folder.with_name(folder.name + ".campaign.json")


def resumable(seen: dict, folder: Path) -> bool:
    """Whether the cell was cut short here with the inputs it has now (``seen``): resume, not start again."""
    record = _record(folder)
    if not record.exists() or not any(folder.glob("**/last/state.json")):
        return False
    written = json.loads(record.read_text("utf-8"))
    deps = sorted(set(seen["deps"]) | set(written["deps"]))  # a dependency added or removed counts too
    changed = [key for key in deps if written["deps"].get(key) != seen["deps"].get(key)]
    changed += ["cmd"] if written["cmd"] != seen["cmd"] else []
    if changed:
        print(f"not resuming {seen['stage']}: changed since it started: {', '.join(changed)}", flush=True)
    return not changed


def start(target: str, dry: bool) -> int:
    """Train the cell from scratch with ``dvc repro``, having written down its inputs first."""
    if prepare(target, dry):
        return 1
    seen, folder = inputs(target)  # again: prepare may have made inputs that were missing
    if not dry:
        folder.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(_record(folder), json.dumps(seen, indent=1))
    return run(["dvc", "repro", target], dry)


def resume(target: str, command: str, dry: bool) -> int:
    """Run the cell's own command (it resumes from ``last/``), then record the cell in the lockfile."""
    print(f"resuming {target} from its last epoch checkpoint", flush=True)
    return run(shlex.split(command), dry) or run(["dvc", "commit", "--force", target], dry)


def run(command: list[str], dry: bool) -> int:
    print("$", " ".join(command), flush=True)
    return 0 if dry else subprocess.run(command, cwd=ROOT).returncode


def render(ablation: bool, dry: bool) -> None:
    """The profile's tables (and Table 6, once its runs began), figures and report, from the cells done."""
    commands = [["entity-bert", "study", "tables"]]
    commands += [["entity-bert", "ablation", "--table"]] if ablation else []
    commands += [["entity-bert", "study", "figures"], ["entity-bert", "study", "report"]]
    for command in commands:
        run(command, dry)


def commit(message: str, dry: bool) -> None:
    """Commit the results, lockfiles and parameters that changed (nothing else of the work tree)."""
    paths = ["results", "dvc.lock", "pipelines/train/dvc.lock", "pipelines/train/code"]  # no params
    run(["git", "add", "--", *paths], dry)
    if not dry and subprocess.run(["git", "diff", "--cached", "--quiet"], cwd=ROOT).returncode:
        run(["git", "commit", "-q", "-m", message], dry)


def run_committing(command: list[str], message: str, dry: bool, every_s: float = COMMIT_EVERY_S) -> int:
    """Run ``command`` (the grid search), committing what it wrote every ``every_s`` seconds meanwhile.

    The sweep writes each trial's dev scores to its ledger (``results/<profile>/grid``) after every
    epoch; committed as it goes, a sweep cut short by a session's end resumes on any machine.
    """
    print("$", " ".join(command), flush=True)
    if dry:
        return 0
    process = subprocess.Popen(command, cwd=ROOT)
    while True:
        try:
            return process.wait(timeout=every_s)
        except subprocess.TimeoutExpired:
            commit(message, dry)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="full", help="a profile under params/profiles")
    parser.add_argument("--steps", nargs="+", type=int, default=[1, 2, 3, 4, 5], help="the steps, in order")
    parser.add_argument(
        "--systems", nargs="+", help="only the training cells of these systems (Table 6's runs are kept)"
    )
    parser.add_argument(
        "--corpora", nargs="+", help="only the training cells on these corpora (Table 6's runs are kept)"
    )
    parser.add_argument("--stop-after", type=float, help="start no cell after this many minutes")
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    args = parser.parse_args()
    began = time.perf_counter()
    profile = yaml.safe_load((ROOT / "params" / "profiles" / f"{args.profile}.yaml").read_text("utf-8"))
    if run(["entity-bert", "study", "use", args.profile], args.dry_run):
        return 1
    if run(["dvc", "repro", "pipelines/train/dvc.yaml:code"], args.dry_run):  # each system's code, current
        return 1
    todo = [
        (step, stage) for step in args.steps for stage in cells(profile, step, args.systems, args.corpora)
    ]
    spent: list[float] = []
    for done, (step, stage) in enumerate(todo):
        mean = sum(spent) / len(spent) if spent else 0.0
        eta = f", ETA {mean * (len(todo) - done) / 3600:.1f} h at {mean / 60:.0f} min a cell" if spent else ""
        print(f"[step {step}] cell {done + 1} of {len(todo)}{eta}: {stage}", flush=True)
        if is_done(stage):
            continue
        if args.stop_after is not None and time.perf_counter() - began > args.stop_after * 60:
            print(f"stopped after {args.stop_after:g} minutes: {stage} and later cells left", flush=True)
            return 0
        started = time.perf_counter()
        seen, folder = inputs(stage)
        if resumable(seen, folder):
            failed = resume(stage, seen["cmd"], args.dry_run)
        else:
            failed = start(stage, args.dry_run)
        if failed:
            print(f"{stage} failed: the campaign stops here (rerun to resume)", file=sys.stderr)
            return 1
        _record(folder).unlink(missing_ok=True)
        spent.append(time.perf_counter() - started)
        render(step >= 4, args.dry_run)
        commit(f"{args.profile} profile: {stage.split(':')[-1]} done", args.dry_run)
    if 5 in args.steps:
        sweep = f"grid_search@{args.profile}"
        message = f"{args.profile} profile: the grid search, trials so far"
        if prepare(sweep, args.dry_run) or run_committing(["entity-bert", "tune"], message, args.dry_run):
            return 1
        run(["dvc", "commit", "--force", f"grid_search@{args.profile}"], args.dry_run)  # recorded afterwards
        render(True, args.dry_run)
        commit(f"{args.profile} profile: the grid search done", args.dry_run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
