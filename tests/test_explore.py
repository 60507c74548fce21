"""Inspecting a trained run: loading it, its predictions, errors by type, cross-attention."""

from __future__ import annotations

import numpy as np
import pytest

from entity_bert.core.errors import InputError
from entity_bert.data.corpus import Sentence
from entity_bert.study import explore
from entity_bert.training.engine import Run
from entity_bert.training.evaluation import train_and_evaluate

from .synthetic import synthetic_run_config


@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory):
    """A tiny Entity-BERT run (frozen tiny random encoder, two epochs) and its checkpoint folder."""
    config = synthetic_run_config(corpus, tmp_path_factory.mktemp("run"), regime="frozen", epochs=2)
    train_and_evaluate(config)
    return config.checkpoint_dir


def sentence(tokens: str, tags: str) -> Sentence:
    words = tokens.split()
    return Sentence(words, tags.split(), [(0, 0)] * len(words), source="test", doc="d1")


def test_errors_by_type_counts_false_positives_negatives_boundaries_and_types():
    gold = [["B-Drug", "I-Drug", "O", "B-Disease"], ["B-Drug", "O"]]
    predicted = [["B-Drug", "O", "O", "B-Drug"], ["B-Drug", "O"]]
    frame = explore.errors_by_type(gold, predicted).set_index("type")
    assert frame.loc["Drug"].to_dict() == {
        "gold": 2,
        "predicted": 3,
        "correct": 1,
        "false_positives": 2,
        "false_negatives": 1,
        "boundary_errors": 1,  # "B-Drug O" inside the gold two-word drug
        "type_errors": 1,  # the gold Disease predicted as a Drug
    }
    assert frame.loc["Disease", "false_negatives"] == 1 and frame.loc["Disease", "predicted"] == 0


def test_document_html_colours_types_and_outlines_errors():
    sentences = [sentence("aspirin for sepsis <b>", "B-Drug O B-Disease O")]
    page = explore.document_html(sentences, [s.tags for s in sentences], [["B-Drug", "O", "O", "O"]])
    colours = explore.type_colours(["Disease", "Drug"])
    assert colours["Disease"] != colours["Drug"]
    assert page.count(colours["Drug"]) == 3  # legend, gold, predicted
    assert page.count("#d62728") == 1  # the missed Disease, outlined on the gold line
    assert "&lt;b&gt;" in page and "<b>gold</b>" in page


def test_document_sentences_picks_one_document():
    sentences = [sentence("a", "O"), sentence("b", "O"), sentence("c", "O")]
    sentences[2].doc = "d2"
    assert [s.tokens for s in explore.document_sentences(sentences)] == [["a"], ["b"]]
    assert [s.tokens for s in explore.document_sentences(sentences, "d2")] == [["c"]]
    assert [s.tokens for s in explore.document_sentences(sentences, limit=1)] == [["a"]]
    with pytest.raises(ValueError, match="no sentences of document"):
        explore.document_sentences(sentences, "d3")


def test_a_trained_run_loads_predicts_and_shows_its_cross_attention(trained):
    run = explore.load_run(trained)
    sentences = explore.split_sentences(run, "test", max_sentences=5)
    assert len(sentences) == 5
    predicted = explore.predict(run, sentences)
    assert [len(p) for p in predicted] == [len(s.tokens) for s in sentences]
    errors = explore.errors_by_type([s.tags for s in sentences], predicted)
    assert set(errors.type) <= {"Drug", "Disease"}
    assert (errors.correct + errors.false_positives == errors.predicted).all()
    words, matrix = explore.cross_attention(run, sentences[0])
    assert words == sentences[0].tokens and matrix.shape == (len(words), len(words))
    assert np.allclose(matrix.sum(axis=1), 1.0, atol=1e-4)
    figure = explore.plot_attention(words, matrix)
    assert len(figure.axes) == 2  # heatmap and colour bar


def test_models_without_cross_attention_are_refused(corpus, tmp_path):
    run = Run(synthetic_run_config(corpus, tmp_path, name="bert", regime="frozen"))
    with pytest.raises(TypeError, match="no cross-attention"):
        explore.cross_attention(run, sentence("aspirin", "B-Drug"))
    with pytest.raises(InputError, match="no run configuration"):
        explore.load_run(tmp_path)
