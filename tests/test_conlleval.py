"""The conlleval reading against an independent implementation of the CoNLL script, and decoding.

Prediction files are written the way users write them (``entity-bert predict
--run ... --decode``) from a model trained for a few steps, under each
decoding, plus one file with stray ``I-`` tags; each is scored by our code and
by the PyPI package ``conlleval`` (a Python port of ``conlleval.pl``), which
must agree to 1e-4. Under constrained decoding no prediction holds an invalid
IOB2 transition, and the strict and conlleval readings agree exactly.
"""

from __future__ import annotations

import random
from pathlib import Path

import conlleval
import pytest

from entity_bert.cli import main
from entity_bert.data.iob2 import invalid_positions
from entity_bert.scoring.metrics import conlleval_scores, entity_scores

from .study_runs import stray
from .synthetic import write_synthetic_corpus

PARAMS = Path(__file__).resolve().parents[1] / "params" / "train.yaml"
RUN = "checkpoints/synth__all__entity-bert__finetune__seed13"


def read_conll(path: Path) -> tuple[list[list[str]], list[list[str]]]:
    """Gold and predicted tags of a ``token gold predicted`` file (blank lines between sentences)."""
    gold, predicted = [], []
    for block in path.read_text("utf-8").strip().split("\n\n"):
        rows = [line.split(" ") for line in block.splitlines()]
        gold.append([row[1] for row in rows])
        predicted.append([row[2] for row in rows])
    return gold, predicted


def write_conll(path: Path, gold: list[list[str]], predicted: list[list[str]]) -> Path:
    blocks = [
        "\n".join(f"w{i} {g} {p}" for i, (g, p) in enumerate(zip(g_row, p_row, strict=True)))
        for g_row, p_row in zip(gold, predicted, strict=True)
    ]
    path.write_text("\n\n".join(blocks) + "\n", "utf-8")
    return path


def assert_conlleval_agrees(path: Path) -> None:
    """Our conlleval reading of ``path`` equals the ``conlleval`` package's, micro and per type."""
    theirs = conlleval.evaluate(path.read_text("utf-8").splitlines())
    ours = conlleval_scores(*read_conll(path))

    def check(mine: dict, their: dict) -> None:
        if their["stats"]["pred"]:  # the package calls precision 1 where nothing was predicted; we call it 0
            assert mine["precision"] == pytest.approx(their["evals"]["prec"], abs=1e-4)
        assert mine["recall"] == pytest.approx(their["evals"]["rec"], abs=1e-4)
        assert mine["f1"] == pytest.approx(their["evals"]["f1"], abs=1e-4)
        assert mine["support"] == their["stats"]["gold"]

    check(ours["micro"], theirs["overall"]["chunks"])
    assert set(ours["per_type"]) == set(theirs["slots"]["chunks"])
    for kind, row in ours["per_type"].items():
        check(row, theirs["slots"]["chunks"][kind])


@pytest.fixture(scope="module")
def predictions(tmp_path_factory) -> dict[str, Path]:
    """``token gold predicted`` files of a model trained for a few steps, one per decoding."""
    root = tmp_path_factory.mktemp("conlleval")
    write_synthetic_corpus(root / "data" / "processed")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        common = ["--corpus", "synth", "--params", str(PARAMS), "--encoder", "tiny-random"]
        settings = ["--epochs", "1", "--max-train-sentences", "32", "--lr", "3e-3"]
        assert main(["train", *common, *settings, "--model", "entity-bert", "--regime", "finetune"]) == 0
        for decode in ("constrained", "argmax"):
            assert main(["predict", "--run", RUN, "--decode", decode, "--out", f"{decode}.conll"]) == 0
    return {decode: root / f"{decode}.conll" for decode in ("constrained", "argmax")}


@pytest.mark.parametrize("decode", ["constrained", "argmax"])
def test_our_conlleval_reading_equals_the_conll_script_on_predict_files(predictions, decode):
    assert_conlleval_agrees(predictions[decode])


def test_and_on_a_file_with_stray_i_tags(predictions, tmp_path):
    gold, _ = read_conll(predictions["constrained"])
    rng = random.Random(7)
    predicted = [stray(tags, rng) for tags in gold]
    assert sum(len(invalid_positions(tags)) for tags in predicted) > 0
    path = write_conll(tmp_path / "stray.conll", gold, predicted)
    assert_conlleval_agrees(path)
    assert conlleval_scores(gold, predicted)["micro"] != entity_scores(gold, predicted)["micro"]


def test_constrained_predictions_are_valid_iob2_and_both_readings_agree_exactly(predictions):
    gold, predicted = read_conll(predictions["constrained"])
    assert not any(invalid_positions(tags) for tags in predicted)
    strict, conll = entity_scores(gold, predicted), conlleval_scores(gold, predicted)
    assert strict["micro"] == conll["micro"] and strict["per_type"] == conll["per_type"]
    argmax_gold, argmax = read_conll(predictions["argmax"])
    assert argmax_gold == gold and len(argmax) == len(predicted)
