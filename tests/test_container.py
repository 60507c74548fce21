"""CONTaiNER: the KL distance, the contrastive loss, nearest-neighbour labelling, the support set."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Independent, Normal, kl_divergence

from entity_bert.data import iob2
from entity_bert.models.batching import collate, length_batches
from entity_bert.models.config import EncoderSpec, ModelConfig
from entity_bert.models.container import (
    contrastive_loss,
    few_shot_sample,
    nearest_by_tag,
    symmetric_kl,
    unit_distance,
)
from entity_bert.models.registry import build_tagger
from entity_bert.runs import checkpoint
from entity_bert.runs.data import build_examples, load_split
from entity_bert.training.engine import Run
from entity_bert.training.evaluation import neural_predictor, score

from .synthetic import DISEASES, DRUGS, TEMPLATES, fill_template, synthetic_run_config

TAGS = iob2.tag_vocabulary(["Disease", "Drug"])
TINY = EncoderSpec(name="tiny-random")


def _sentences(count: int):
    return [
        fill_template(
            TEMPLATES[i % len(TEMPLATES)], {"Drug": DRUGS[i % len(DRUGS)], "Disease": DISEASES[i % 5]}
        )
        for i in range(count)
    ]


def test_symmetric_kl_matches_a_hand_computation_and_is_a_symmetric_divergence():
    # N(0, 1) and N(1, 2): KL(p||q) = log(2)/2, KL(q||p) = (2 - log 2)/2, so d = (1/2)(1) = 1/2.
    mu, var = torch.tensor([[0.0], [1.0]]), torch.tensor([[1.0], [2.0]])
    d = symmetric_kl(mu, var, mu, var)
    assert torch.allclose(d, torch.tensor([[0.0, 0.5], [0.5, 0.0]]), atol=1e-6)
    torch.manual_seed(0)
    mu, var = torch.randn(5, 4), torch.rand(5, 4) + 0.5
    d = symmetric_kl(mu, var, mu, var)
    assert torch.allclose(d, d.T, atol=1e-5) and torch.allclose(d.diagonal(), torch.zeros(5), atol=1e-5)
    p = Independent(Normal(mu.unsqueeze(1), var.unsqueeze(1).sqrt()), 1)
    q = Independent(Normal(mu.unsqueeze(0), var.unsqueeze(0).sqrt()), 1)
    assert torch.allclose(d, (kl_divergence(p, q) + kl_divergence(q, p)) / 2, atol=1e-4)


def test_contrastive_loss_on_a_hand_example_and_lower_when_same_tags_are_close():
    # Unit variances: d(p, q) = |mu_p - mu_q|^2 / 2. Tokens at 0, 1, 3; tags A, A, B.
    # d01 = 0.5, d02 = 4.5, d12 = 2; token 2 has no other B and is not an anchor.
    var = torch.ones(3, 1)
    loss = contrastive_loss(torch.tensor([[0.0], [1.0], [3.0]]), var, torch.tensor([0, 0, 1]))
    expected = (math.log(1 + math.exp(-4)) + math.log(1 + math.exp(-1.5))) / 2
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    labels = torch.tensor([0, 0, 1, 1])
    close = contrastive_loss(torch.tensor([[0.0], [0.1], [3.0], [3.1]]), torch.ones(4, 1), labels)
    apart = contrastive_loss(torch.tensor([[0.0], [3.0], [0.1], [3.1]]), torch.ones(4, 1), labels)
    assert close < apart
    mu = torch.tensor([[0.0], [3.0], [0.1], [3.1]], requires_grad=True)
    contrastive_loss(mu, torch.ones(4, 1), labels).backward()
    assert torch.isfinite(mu.grad).all()
    assert contrastive_loss(mu, torch.ones(4, 1), torch.tensor([0, 1, 2, 3])).item() == 0.0  # no anchors


def test_nearest_neighbour_labelling_and_valid_iob2_on_hand_made_vectors():
    tags = ["O", "B-X", "I-X"]
    support = torch.tensor([[1.0, 0, 0], [0, 1, 0], [0, 0, 1], [0.9, 0.1, 0]])
    support_tags = torch.tensor([0, 1, 2, 0])
    queries = torch.nn.functional.normalize(torch.tensor([[0, 1, 0.1], [0, 0.2, 1], [1, 0, 0], [0, 0.3, 1]]))
    nearest = nearest_by_tag(queries, support, support_tags, 3, unit_distance)
    assert nearest.argmin(1).tolist() == [1, 2, 0, 2]  # the last I-X follows O: invalid IOB2
    model = build_tagger(ModelConfig(name="container"), tags, "finetune", TINY)
    model.support_vectors, model.support_tags = support.half(), support_tags
    model.eval()
    batch = {"features": queries.unsqueeze(0), "mask": torch.ones(1, 4, dtype=torch.bool)}
    assert model.decode(batch) == [[1, 2, 0, 1]]  # Viterbi opens the last entity with B-X instead
    empty = build_tagger(ModelConfig(name="container"), tags, "finetune", TINY).eval()
    assert empty.decode(batch) == [[0, 0, 0, 0]]  # no support yet: everything O


def test_support_survives_a_checkpoint_and_gives_the_same_tags(tmp_path):
    torch.manual_seed(3)
    model = build_tagger(ModelConfig(name="container", container_dim=16), TAGS, "finetune", TINY)
    examples = build_examples(_sentences(12), TAGS, "encoder", TINY)
    model.fit_support(examples, 8, torch.device("cpu"))
    assert len(model.support_tags) == sum(len(e) for e in examples)
    assert model.support_vectors.dtype == torch.float16 and model.training
    checkpoint.save(tmp_path / "best", model)
    torch.manual_seed(4)
    again = build_tagger(ModelConfig(name="container", container_dim=16), TAGS, "finetune", TINY)
    checkpoint.load_model(again, tmp_path / "best")
    assert torch.equal(again.support_vectors, model.support_vectors)
    assert torch.equal(again.support_tags, model.support_tags)
    batch = collate(examples[:4])
    assert again.eval().decode(batch) == model.eval().decode(batch)


def test_few_shot_sample_covers_each_type_k_times_and_keeps_no_redundant_sentence():
    sentences = _sentences(40)
    tags = [s.tags for s in sentences]
    tags.append(["B-Rare", "O"])  # a type with fewer than K entities: all of it is kept
    chosen = few_shot_sample(tags, 3, torch.Generator().manual_seed(0))

    def counts(indexes):
        return {k: sum(tags[i].count(f"B-{k}") for i in indexes) for k in ("Disease", "Drug", "Rare")}

    have = counts(chosen)
    assert have["Disease"] >= 3 and have["Drug"] >= 3 and have["Rare"] == 1
    for i in chosen:  # every sentence is needed by some type
        rest = counts([j for j in chosen if j != i])
        assert any(rest[k] < min(3, have[k]) for k in rest)
    assert chosen == few_shot_sample(tags, 3, torch.Generator().manual_seed(0))
    model = build_tagger(ModelConfig(name="container", container_shots=2), TAGS, "finetune", TINY)
    examples = build_examples(sentences, TAGS, "encoder", TINY)
    model.fit_support(examples, 8, torch.device("cpu"))
    support = [TAGS[i] for i in model.support_tags.tolist()]
    assert support.count("B-Drug") >= 2 and support.count("B-Disease") >= 2
    assert len(support) < sum(len(e) for e in examples)


def _dev_loss(run: Run, dev) -> float:
    run.model.eval()
    with torch.no_grad():
        return sum(run.model.loss(collate([dev[i] for i in b])).item() for b in length_batches(dev, 16, None))


@pytest.mark.parametrize("regime", ["finetune", "frozen"])
def test_container_learns_the_synthetic_corpus(corpus, tmp_path, regime):
    """Tagging through the engine, and a contrastive loss on dev that training lowers.

    Nearest neighbours over the synthetic corpus's repeated words tag it well
    even untrained, so the F1 alone would not catch a broken loss.
    """
    config = synthetic_run_config(corpus, tmp_path, name="container", regime=regime, epochs=4)
    config.model.container_dim = 32
    run = Run(config)
    dev = run.examples("dev", regime == "frozen")
    before = _dev_loss(run, dev)
    run.train()
    assert _dev_loss(run, dev) < 0.95 * before
    assert score(neural_predictor(run), load_split(config, "test"))["micro"]["f1"] >= 0.9
