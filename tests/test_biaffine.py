"""Biaffine NER: gold span classes, the scorer's equation, flat decoding, padding, learning."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from entity_bert.data.iob2 import tag_types
from entity_bert.models.batching import IGNORE
from entity_bert.models.biaffine import (
    NON_ENTITY,
    Biaffine,
    BiaffineScorer,
    flat_spans,
    gold_classes,
    valid_spans,
)
from entity_bert.training.evaluation import train_and_evaluate

from .synthetic import synthetic_run_config

TAGS = ["O", "B-Disease", "I-Disease", "B-Drug", "I-Drug"]
DISEASE, DRUG = 1, 2  # span classes: 0 is no entity


def _labels(*rows: list[str]) -> Tensor:
    """Padded tag indexes of IOB2 rows (``IGNORE`` after each row's end)."""
    width = max(len(r) for r in rows)
    return torch.tensor([[TAGS.index(t) for t in r] + [IGNORE] * (width - len(r)) for r in rows])


def test_entity_types_follow_the_tag_order():
    assert tag_types(TAGS) == ["Disease", "Drug"]


def test_gold_class_matrix_from_iob2_labels():
    labels = _labels(["B-Drug", "O", "B-Disease", "I-Disease", "O"], ["B-Disease", "B-Disease", "O"])
    gold = gold_classes(labels, TAGS)
    expected = torch.zeros(2, 5, 5, dtype=torch.long)
    expected[0, 0, 0] = DRUG  # "B-Drug": the one-word span (0, 0)
    expected[0, 2, 3] = DISEASE  # "B-Disease I-Disease": first word 2, last word 3
    expected[1, 0, 0] = DISEASE  # two adjacent one-word entities, not one of two words
    expected[1, 1, 1] = DISEASE
    assert torch.equal(gold, expected)


def test_valid_spans_are_the_upper_triangle_of_real_words():
    mask = torch.tensor([[True, True, True], [True, True, False]])
    valid = valid_spans(mask)
    assert valid[0].tolist() == [[True, True, True], [False, True, True], [False, False, True]]
    assert valid[1].tolist() == [[True, True, False], [False, True, False], [False, False, False]]


def test_scorer_computes_equation_2_for_every_pair():
    torch.manual_seed(0)
    scorer = BiaffineScorer(size=4, classes=3)
    for parameter in scorer.parameters():
        nn.init.normal_(parameter)
    start, end = torch.randn(2, 5, 4), torch.randn(2, 5, 4)
    scores = scorer(start, end)
    assert scores.shape == (2, 5, 5, 3)
    weight = torch.cat([scorer.linear_start, scorer.linear_end])  # W: 2d x c
    for b, i, j in [(0, 0, 0), (0, 1, 4), (1, 3, 2)]:
        hs, he = start[b, i], end[b, j]
        expected = torch.einsum("d,dce,e->c", hs, scorer.bilinear, he) + torch.cat([hs, he]) @ weight
        torch.testing.assert_close(scores[b, i, j], expected + scorer.bias)


class _Features(nn.Module):
    """A stand-in encoder source: the batch's cached features, as in the frozen regime."""

    output_size = 6

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        return batch["features"]


def _scores(length: int, logits: dict[tuple[int, int], tuple[int, float]]) -> Tensor:
    """[1, n, n, 3] scores: every span says "no entity" (logit 5) except ``(i, j) -> (class, logit)``."""
    scores = torch.zeros(1, length, length, 3)
    scores[..., NON_ENTITY] = 5.0
    for (i, j), (kind, logit) in logits.items():
        scores[0, i, j, kind] = logit
    return scores


def test_flat_decoding_keeps_the_best_span_against_nested_and_overlapping_rivals():
    mask = torch.ones(1, 8, dtype=torch.bool)
    scores = _scores(
        8,
        {
            (1, 3): (DRUG, 9.0),  # the best span: words 1-3
            (2, 2): (DISEASE, 8.0),  # nested in it, lower: loses
            (3, 4): (DRUG, 7.0),  # overlaps its last word, lower: loses
            (5, 5): (DISEASE, 6.0),  # disjoint: kept
            (6, 7): (DRUG, 4.0),  # its best class is "no entity" (5.0): never a candidate
        },
    )
    assert flat_spans(scores, mask, ["Disease", "Drug"]) == [[(1, 4, "Drug"), (5, 6, "Disease")]]
    scores[0, 2, 2, DISEASE] = 12.0  # now the nested span outranks its container, which loses
    assert flat_spans(scores, mask, ["Disease", "Drug"]) == [
        [(2, 3, "Disease"), (3, 5, "Drug"), (5, 6, "Disease")]
    ]


def test_decode_turns_the_kept_spans_into_iob2_tag_indexes():
    model = Biaffine(_Features(), TAGS, hidden=5, size=4)
    scores = _scores(8, {(1, 3): (DRUG, 9.0), (2, 2): (DISEASE, 8.0), (5, 5): (DISEASE, 6.0)})
    model.scores = lambda batch: scores
    tags = model.decode({"mask": torch.ones(1, 8, dtype=torch.bool)})
    assert [[TAGS[i] for i in row] for row in tags] == [
        ["O", "B-Drug", "I-Drug", "I-Drug", "O", "B-Disease", "O", "O"]
    ]


def test_flat_decoding_ignores_padding_and_reversed_spans():
    mask = torch.tensor([[True, True, True, False]])
    scores = _scores(4, {(2, 3): (DRUG, 9.0), (2, 0): (DRUG, 9.0), (0, 1): (DISEASE, 8.0)})
    assert flat_spans(scores, mask, ["Disease", "Drug"]) == [[(0, 2, "Disease")]]


def _random_biaffine() -> Biaffine:
    torch.manual_seed(3)
    model = Biaffine(_Features(), TAGS, hidden=5, size=4, dropout=0.0).eval()
    for parameter in model.scorer.parameters():
        nn.init.normal_(parameter)
    with torch.no_grad():
        model.scorer.bias[NON_ENTITY] = -1.0  # so that random scores propose entities
    return model


def test_decode_gives_the_same_spans_alone_and_in_a_padded_batch():
    model = _random_biaffine()
    short, long = torch.randn(4, 6), torch.randn(9, 6)
    alone = {"features": short.unsqueeze(0), "mask": torch.ones(1, 4, dtype=torch.bool)}
    alone["labels"] = torch.zeros(1, 4, dtype=torch.long)
    padded = torch.zeros(2, 9, 6)
    padded[0], padded[1, :4] = long, short
    batch = {"features": padded, "mask": torch.arange(9).unsqueeze(0) < torch.tensor([[9], [4]])}
    batch["labels"] = torch.where(batch["mask"], 0, IGNORE)
    with torch.no_grad():
        torch.testing.assert_close(model.scores(batch)[1, :4, :4], model.scores(alone)[0])
        tags_alone, tags_batched = model.decode(alone)[0], model.decode(batch)[1]
    assert tags_alone == tags_batched and len(tags_alone) == 4
    assert any(t != 0 for t in tags_alone)  # the test would be empty without predicted entities


def test_loss_is_a_finite_scalar_that_flows_to_the_scorer():
    model = _random_biaffine().train()
    batch = {"features": torch.randn(2, 5, 6), "labels": _labels(TAGS[3:5] + ["O"] * 3, ["B-Disease"] * 2)}
    batch["mask"] = batch["labels"] != IGNORE
    loss = model.loss(batch)
    assert loss.dim() == 0 and loss.dtype == torch.float32 and torch.isfinite(loss)
    loss.backward()
    assert model.scorer.bilinear.grad.abs().sum() > 0


@pytest.mark.parametrize(("regime", "epochs"), [("frozen", 8), ("finetune", 6)])
def test_biaffine_learns_the_synthetic_corpus(corpus, tmp_path, regime, epochs):
    config = synthetic_run_config(
        corpus,
        tmp_path,
        name="biaffine",
        regime=regime,
        epochs=epochs,
        head_lr=1e-2,  # nearly every span is "no entity": the scorer needs a few epochs to find entities
    )
    record = train_and_evaluate(config)
    assert record["decodings"]["constrained"]["scores"]["micro"]["f1"] >= 0.9
