"""Raw text: export a trained run, load it offline in a fresh process, predict with exact offsets."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import entity_bert
from entity_bert.cli import main
from entity_bert.core.errors import InputError
from entity_bert.data import brat
from entity_bert.data.corpus import Sentence
from entity_bert.data.iob2 import invalid_positions
from entity_bert.models.encoder import encode_sentence
from entity_bert.runs.model import load_trained
from entity_bert.serve.export import export_run
from entity_bert.serve.recogniser import sentences_of
from entity_bert.training.evaluation import neural_predictor, train_and_evaluate

from .synthetic import synthetic_run_config

LONG = " ".join(["the patient took aspirin for sepsis and"] * 50)  # one sentence, over 256 word pieces
TEXTS = [
    "The patient took aspirin for sepsis.\r\nNo heparin was given because of asthma.\r\n",
    "She received\twarfarin after diabetes was diagnosed. T 37.5 °C, β-blocker naïve.",
    "Line one took insulin glargine\rline two: lung cancer.\n\n  \t \nheart failure",
    LONG + ".",
]


@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory):
    """A tiny Entity-BERT run (frozen tiny random encoder) and its exported model directory."""
    config = synthetic_run_config(corpus, tmp_path_factory.mktemp("run"), regime="frozen", epochs=3)
    train_and_evaluate(config)
    model = export_run(config.checkpoint_dir, tmp_path_factory.mktemp("export") / "model")
    return config, model


def offline_prediction(model: Path, texts: list[str], cwd: Path) -> list[list[list]]:
    """Load ``model`` and predict ``texts`` in a fresh Python with every socket refused."""
    script = textwrap.dedent(
        """
        import json, socket, sys

        def refuse(*args, **kwargs):
            raise OSError("network disabled in this test")

        socket.socket.connect = socket.socket.connect_ex = refuse
        socket.getaddrinfo = socket.create_connection = refuse
        import entity_bert

        request = json.load(sys.stdin)
        recognise = entity_bert.load(request["model"], device="cpu")
        print(json.dumps([[list(m) for m in found] for found in recognise(request["texts"])]))
        """
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HOME": str(cwd / "hf")}
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps({"model": str(model), "texts": texts}),
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_export_loads_offline_in_a_fresh_process_with_exact_offsets(trained, tmp_path):
    config, model = trained
    moved = tmp_path / "elsewhere" / "model"  # another place, no corpus, no checkpoints
    shutil.copytree(model, moved)
    found = offline_prediction(moved, TEXTS, tmp_path)
    assert sum(len(f) for f in found) > 0
    for text, mentions in zip(TEXTS, found, strict=True):
        for start, end, kind, span, score in mentions:
            assert text[start:end] == span and kind in ("Drug", "Disease") and 0.0 <= score <= 1.0
            assert span == span.strip() and "\n" not in span and "\r" not in span
    # the same model in this process, and the trained run itself, agree word for word
    recognise = entity_bert.load(model, device="cpu")
    assert [[list(m) for m in f] for f in recognise(TEXTS)] == found
    run = load_trained(config)
    sentences = [
        Sentence([t[s:e] for s, e in words], ["O"] * len(words), words, "t")
        for t in TEXTS
        for words in sentences_of(t)
    ]
    decoded = neural_predictor(run)(sentences)
    assert [tags for tags, _ in recognise.tag(sentences)] == decoded["constrained"]  # the default
    argmax = entity_bert.load(model, device="cpu", decode="argmax")
    assert [tags for tags, _ in argmax.tag(sentences)] == decoded["argmax"]
    assert all(not invalid_positions(tags) for tags, _ in recognise.tag(sentences))


def test_a_sentence_longer_than_the_window_is_read_whole(trained):
    _, model = trained
    recognise = entity_bert.load(model, device="cpu")
    [words] = sentences_of(LONG)
    tokens = [LONG[s:e] for s, e in words]
    encoded = encode_sentence(recognise.tokenizer, tokens, recognise.config.encoder)
    assert len(encoded.windows) > 1 and len(tokens) == 350
    [(tags, scores)] = recognise.tag([Sentence(tokens, ["O"] * len(tokens), words, "t")])
    assert len(tags) == len(scores) == len(tokens)
    assert recognise(LONG) == recognise([LONG])[0]


def test_lines_end_sentences_whatever_the_newline_convention():
    text = "a b\r\nc\rd\n\te  f"
    sentences = sentences_of(text)
    assert [[text[s:e] for s, e in words] for words in sentences] == [["a", "b"], ["c"], ["d"], ["e", "f"]]
    assert sentences_of("") == [] and sentences_of(" \r\n\t") == []


def test_tampered_or_incomplete_directories_are_refused(trained, tmp_path, capsys):
    _, model = trained
    for damage, message in (
        (
            lambda d: (d / "model.safetensors").write_bytes(
                b"x" + (d / "model.safetensors").read_bytes()[1:]
            ),
            "sha256",
        ),
        (lambda d: (d / "labels.json").unlink(), "missing"),
        (lambda d: (d / "encoder" / "config.json").write_text("{}"), "sha256"),
        (lambda d: (d / "manifest.json").unlink(), "not a model directory"),
    ):
        copy = tmp_path / f"copy{len(list(tmp_path.iterdir()))}"
        shutil.copytree(model, copy)
        damage(copy)
        with pytest.raises(InputError, match=message):
            entity_bert.load(copy)
        assert main(["predict", "--model", str(copy), "-"]) == 2
        error = capsys.readouterr().err.strip()
        assert "\n" not in error and message in error


def test_predict_writes_jsonl_brat_and_html_and_reports_bad_files(trained, tmp_path, capsys):
    _, model = trained
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    for k, text in enumerate(TEXTS[:3]):
        (docs / f"note{k}.txt").write_bytes(text.encode("utf-8"))
    (docs / "sub" / "empty.txt").write_bytes(b"")
    (docs / "sub" / "latin1.txt").write_bytes("caf\xe9 fever\n".encode("latin-1"))
    (docs / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    recognise = entity_bert.load(model, device="cpu")

    assert main(["predict", "--model", str(model), str(docs), "--out", str(tmp_path / "out.jsonl")]) == 1
    error = capsys.readouterr().err
    assert f"{docs / 'binary.txt'}:3: binary file" in error
    assert f"{docs / 'sub' / 'empty.txt'}:1: empty document" in error
    assert f"{docs / 'sub' / 'latin1.txt'}:1: not UTF-8" in error
    assert "documents: 3 done, 3 failed" in error
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text("utf-8").splitlines()]
    assert [r["document"] for r in records] == [str(docs / f"note{k}.txt") for k in range(3)]
    for record, text in zip(records, TEXTS, strict=False):
        assert [(e["start"], e["end"], e["type"], e["text"]) for e in record["entities"]] == [
            m[:4] for m in recognise(text)
        ]

    assert (
        main(
            [
                "predict",
                "--model",
                str(model),
                str(docs / "note0.txt"),
                str(docs / "note1.txt"),
                "--format",
                "brat",
            ]
        )
        == 0
    )
    for k in range(2):
        document = brat.read_document(docs / f"note{k}.txt", entity_types=recognise.types)
        expected = [(m.type, m.start, m.end) for m in recognise(TEXTS[k])]
        assert [(e.type, e.start, e.end) for e in document.entities] == expected

    assert (
        main(
            ["predict", "--model", str(model), str(docs), "--format", "html", "--out", str(tmp_path / "html")]
        )
        == 1
    )
    page = (tmp_path / "html" / "note1.html").read_text("utf-8")
    text = re.sub(r"<[^>]+>", "", page)  # the page's text, marks and labels aside: unicode kept, unescaped
    assert page.startswith("<!DOCTYPE html>") and "β-blocker naïve" in text and "<script" not in page
    for kind in recognise.types:
        assert f">{kind}</mark>" in page  # the legend
    assert page.count("<mark") == len(recognise(TEXTS[1])) + len(recognise.types)
    assert not list(tmp_path.rglob("*.tmp")) and not (tmp_path / "html" / "binary.html").exists()


def test_standard_input_is_read_when_no_file_is_given(trained, capsys, monkeypatch):
    _, model = trained
    text = "The patient took aspirin for sepsis."
    monkeypatch.setattr(sys, "stdin", _Stdin(text.encode("utf-8")))
    assert main(["predict", "--model", str(model)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert main(["predict", "--model", str(model), "-", "--out", str(model)]) == 2  # a folder
    assert "--format jsonl writes one file" in capsys.readouterr().err
    assert record["document"] == "<stdin>"
    assert all(text[e["start"] : e["end"]] == e["text"] for e in record["entities"])


def test_models_without_a_softmax_head_give_no_score(corpus, tmp_path):
    config = synthetic_run_config(corpus, tmp_path, name="bert-crf", regime="frozen", epochs=1)
    train_and_evaluate(config)
    recognise = entity_bert.load(export_run(config.checkpoint_dir, tmp_path / "model"), device="cpu")
    found = recognise(TEXTS[0])
    assert all(m.score is None and TEXTS[0][m.start : m.end] == m.text for m in found)
    with pytest.raises(TypeError, match="string"):
        recognise([TEXTS[0], 3])


class _Stdin:
    def __init__(self, data: bytes) -> None:
        import io

        self.buffer = io.BytesIO(data)


def test_bf16_keeps_offsets_exact_and_mostly_the_same_mentions(trained):
    _, model = trained
    fp32 = entity_bert.load(model, device="cpu")(TEXTS)
    bf16 = entity_bert.load(model, device="cpu", precision="bf16")(TEXTS)
    for text, mentions in zip(TEXTS, bf16, strict=True):
        assert all(text[m.start : m.end] == m.text for m in mentions)
    same = {(k, *m[:4]) for k, ms in enumerate(fp32) for m in ms} & {
        (k, *m[:4]) for k, ms in enumerate(bf16) for m in ms
    }
    assert len(same) >= 0.8 * sum(len(ms) for ms in fp32)


def test_budget_batches_cover_every_sentence_once_and_bound_padding():
    from entity_bert.models.batching import Example
    from entity_bert.serve.recogniser import budget_batches

    costs = [300, 5, 40, 38, 41, 39, 7, 6, 250, 36]
    examples = [Example([0], encoded=encode_stub(c)) for c in costs]
    batches = budget_batches(examples, budget=160, fill=0.8)
    assert sorted(i for b in batches for i in b) == list(range(len(costs)))
    for batch in batches:
        longest = max(costs[i] for i in batch)
        assert len(batch) == 1 or len(batch) * longest <= 160
        assert all(costs[i] >= 0.8 * longest for i in batch)
    assert [costs[b[0]] for b in batches] == sorted((costs[b[0]] for b in batches), reverse=True)


def encode_stub(pieces: int):
    from entity_bert.models.encoder import EncodedSentence

    return EncodedSentence([[0] * pieces], [(0, 0)], [1])
