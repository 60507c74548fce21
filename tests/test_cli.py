"""The ``entity-bert`` command: ``data check`` messages, exit codes, and a full run on toy data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from entity_bert.cli import main


def _check(path: Path, capsys, *extra: str) -> tuple[int, str, str]:
    status = main(["data", "check", str(path), *extra])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_check_accepts_a_valid_tsv_and_reports_repairs(tmp_path, capsys):
    tsv = tmp_path / "ok.tsv"
    tsv.write_text("a\tO\nb\tI-Disease\n\nc\tB-Disease\n", "utf-8")
    status, out, err = _check(tsv, capsys)
    assert status == 0 and err == ""
    assert "2 sentences, 2 entities, 1 IOB2 repair(s)" in out


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        (b"a\tO\nb\tO\tX\n", 2, "expected 'token<TAB>tag'"),
        (b"a\tO\n\nb\tS-Disease\n", 3, "is not IOB2"),
        (b"a\tO\nb\tO\n\xff\tO\n", 3, "not UTF-8"),
        (b"", 1, "empty file"),
    ],
)
def test_check_reports_bad_tsv_in_one_line_and_fails(tmp_path, capsys, content, line, message):
    tsv = tmp_path / "bad.tsv"
    tsv.write_bytes(content)
    status, out, err = _check(tsv, capsys)
    assert status == 2 and out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"{tsv}:{line}: ") and message in err


def test_check_strict_rejects_invalid_continuation(tmp_path, capsys):
    tsv = tmp_path / "bad.tsv"
    tsv.write_text("a\tO\nb\tI-Disease\n", "utf-8")
    status, _, err = _check(tsv, capsys, "--strict")
    assert status == 2 and err.startswith(f"{tsv}:2: ")


def test_check_brat_folder(tmp_path, capsys):
    (tmp_path / "d.txt").write_text("Fever and cough.\n", "utf-8")
    (tmp_path / "d.ann").write_text("T1\tSymptom 0 5\tFever\nT2\tSymptom 10 16\tcoughs\n", "utf-8")
    status, _, err = _check(tmp_path, capsys)
    assert status == 2
    assert err.startswith(f"{tmp_path / 'd.ann'}:2: span text")
    (tmp_path / "d.ann").write_text("T1\tSymptom 0 5\tFever\nT2\tSymptom 10 15\tcough\n", "utf-8")
    status, out, _ = _check(tmp_path, capsys)
    assert status == 0 and "1 documents" in out and "entities_kept 2" in out


def test_check_unknown_type_with_types_option(tmp_path, capsys):
    tsv = tmp_path / "t.tsv"
    tsv.write_text("a\tB-Drug\n", "utf-8")
    status, _, err = _check(tsv, capsys, "--types", "Disease")
    assert status == 2 and "unknown entity type 'Drug'" in err


def test_check_missing_path(tmp_path, capsys):
    status, _, err = _check(tmp_path / "nope.tsv", capsys)
    assert status == 2 and "no such file or folder" in err


def test_prepare_and_table1_from_the_command_line(tmp_path, capsys, toy_params):
    params = tmp_path / "data.yaml"
    params.write_text(yaml.safe_dump({"data": vars(toy_params)}), "utf-8")
    assert main(["data", "prepare", "--params", str(params)]) == 0
    assert "toy-brat: sentences train" in capsys.readouterr().out
    assert main(["tables", "table1", "--params", str(params), "--out", str(tmp_path / "tables")]) == 0
    assert (tmp_path / "tables" / "table1_corpus_stats.csv").exists()
    assert (tmp_path / "tables" / "table1_corpus_stats.md").read_text().startswith("# Table 1")


def test_console_script_is_installed():
    result = subprocess.run(
        [Path(sys.executable).with_name("entity-bert"), "data", "check", "/nonexistent"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == "/nonexistent: no such file or folder\n"


def test_train_evaluate_and_predict_from_the_command_line(tmp_path, capsys, monkeypatch):
    from .synthetic import write_synthetic_corpus

    write_synthetic_corpus(tmp_path / "data" / "processed")
    monkeypatch.chdir(tmp_path)
    params = Path(__file__).resolve().parents[1] / "params" / "train.yaml"
    common = ["--corpus", "synth", "--params", str(params), "--encoder", "tiny-random", "--epochs", "2"]
    assert main(["train", *common, "--model", "bert-crf", "--regime", "finetune", "--lr", "3e-3"]) == 0
    out = capsys.readouterr().out
    assert "synth__all__bert-crf__finetune__seed13: test" in out and "micro" in out
    run = "checkpoints/synth__all__bert-crf__finetune__seed13"
    assert main(["evaluate", "--run", run, "--split", "dev", "--out", "dev.json"]) == 0
    assert json.loads(Path("dev.json").read_text())["split"] == "dev"
    assert main(["predict", "--run", run, "--out", "test.conll"]) == 0
    blocks = Path("test.conll").read_text().strip().split("\n\n")
    assert len(blocks) == 40
    assert all(len(line.split(" ")) == 3 for block in blocks for line in block.splitlines())


def test_evaluate_without_a_trained_run_fails_in_one_line(tmp_path, capsys):
    assert main(["evaluate", "--run", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith(f"{tmp_path / 'config.json'}: no run configuration")


def test_the_bench_options_make_a_bench_config_of_the_right_types():
    """`entity-bert bench` builds its configuration from the parsed options that are its fields."""
    from dataclasses import fields

    from entity_bert.cli import build_parser
    from entity_bert.study.bench import BenchConfig

    args = build_parser(run_options=False).parse_args(["bench", "--train-sentences", "8"])
    names = {f.name for f in fields(BenchConfig)}
    config = BenchConfig(**{k: v for k, v in vars(args).items() if k in names and v is not None})
    assert config.train_sentences == 8 and config.epochs == 2 and isinstance(config.epochs, int)
    cells = build_parser(run_options=False).parse_args(["bench", "--cells", "full", "--cell-epochs", "6"])
    assert cells.cell_epochs == 6.0 and cells.cells == "full"


def test_train_takes_every_regime_the_registry_knows():
    """`entity-bert train --regime` accepts each regime some system trains in (top included)."""
    from entity_bert.cli import build_parser
    from entity_bert.models.registry import MODEL_NAMES, regimes

    for regime in {regime for name in MODEL_NAMES for regime in regimes(name)}:
        argv = ["train", "--corpus", "c", "--model", "bert", "--regime", regime]
        assert build_parser(run_options=False).parse_args(argv).regime == regime
