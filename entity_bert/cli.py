"""The ``entity-bert`` command.

    entity-bert data fetch   [--mirror DIR] [--corpus NAME ...]
    entity-bert data prepare [--params params/data.yaml] [--corpus NAME ...] [--split official|paper]
    entity-bert data check   PATH [--types T ...] [--strict]
    entity-bert tables table1 [--params params/data.yaml] [--out results/tables]

Bad input ends with one line ``FILE:LINE: what is wrong`` on standard error
and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from . import brat, conll, sources, spans
from .errors import InputError
from .prepare import DataParams, prepare_corpus
from .tables import write_table1

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


def cmd_table1(args: argparse.Namespace) -> int:
    params = _data_params(args)
    write_table1(params.processed_dir, params.corpora, args.out)
    print(f"wrote {args.out}/table1_corpus_stats.csv and .md")
    return 0


def build_parser() -> argparse.ArgumentParser:
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
    table1.add_argument("--out", default="results/tables", help="output folder")
    table1.set_defaults(func=cmd_table1)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (InputError, sources.FetchError) as error:
        print(error, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
