"""MRC-NER (models/mrc.py): queries, query-prefixed windows, span decoding, learnability."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from entity_bert.core.errors import InputError
from entity_bert.data import iob2
from entity_bert.models.config import EncoderSpec, ModelConfig
from entity_bert.models.mrc import flat_indexes, load_queries, matched_spans, query_windows
from entity_bert.models.registry import build_tagger
from entity_bert.runs.checkpoint import model_tensors
from entity_bert.training.evaluation import train_and_evaluate

from .synthetic import synthetic_run_config

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ROOT / "params" / "mrc_queries.yaml"


def test_the_queries_file_has_one_query_for_every_type_of_our_corpora():
    corpora = yaml.safe_load((ROOT / "entity_bert" / "resources" / "corpora.yaml").read_text())
    types = {t for name, corpus in corpora.items() if name != "maccrobat2020" for t in corpus["entity_types"]}
    types |= set(yaml.safe_load((ROOT / "params" / "labels" / "maccrobat2020_paper6.yaml").read_text()))
    queries = load_queries(QUERIES, sorted(types))
    assert len(types) == 12 and all(q.startswith("Find ") for q in queries)


def test_a_type_without_a_query_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "queries.yaml"
    path.write_text("Disease: Find diseases.\n")
    assert load_queries(path, ["Disease"]) == ["Find diseases."]
    with pytest.raises(InputError, match=rf"{path}: no MRC query for entity type\(s\) Drug"):
        load_queries(path, ["Disease", "Drug"])
    with pytest.raises(InputError, match="not found"):
        load_queries(tmp_path / "absent.yaml", ["Disease"])


def test_every_window_gets_each_query_and_the_word_indexes_follow():
    cls, sep = 101, 102
    queries = torch.tensor([[11, 12, 13], [21, 0, 0]])  # two types, queries of 3 and 1 pieces
    input_ids = torch.tensor([[cls, 5, 6, 7, sep], [cls, 8, sep, 0, 0]])  # two windows
    word_index = torch.tensor([[1, 3], [5 + 1, 0]])  # sentence 0: pieces 5 and 7; sentence 1: piece 8, pad
    ids, mask, segments, index = query_windows(
        queries, input_ids, (input_ids > 0).long(), word_index, cls, sep
    )
    assert ids.tolist() == [
        [cls, 11, 12, 13, sep, 5, 6, 7, sep],
        [cls, 11, 12, 13, sep, 8, sep, 0, 0],
        [cls, 21, sep, 5, 6, 7, sep, 0, 0],
        [cls, 21, sep, 8, sep, 0, 0, 0, 0],
    ]
    assert mask.tolist() == (ids > 0).long().tolist()
    assert segments[2].tolist() == [0, 0, 0, 1, 1, 1, 1, 0, 0]  # the query is segment 0, the sentence 1
    pieces = ids.flatten()[index]  # [types, sentences, words]
    assert pieces[:, 0].tolist() == [[5, 7], [5, 7]] and pieces[:, 1, 0].tolist() == [8, 8]


def test_decoding_keeps_matched_spans_and_resolves_a_clash_across_types():
    types = ["Disease", "Drug"]
    tags = iob2.tag_vocabulary(types)  # O B-Disease I-Disease B-Drug I-Drug
    start, end, match = torch.zeros(2, 2, 6), torch.zeros(2, 2, 6), torch.zeros(2, 2, 6, 6)
    # sentence 0: Disease 1..2 (score .9*.8*.9) clashes with Drug 2..3 (.95*.9*.9), which wins;
    # Drug 5..5 is a start and an end, but they do not match
    start[0, 0, 1], end[0, 0, 2], match[0, 0, 1, 2] = 0.9, 0.8, 0.9
    start[1, 0, 2], end[1, 0, 3], match[1, 0, 2, 3] = 0.95, 0.9, 0.9
    start[1, 0, 5], end[1, 0, 5], match[1, 0, 5, 5] = 0.7, 0.7, 0.4
    # sentence 1 (4 words): Disease 0..1; 0..3 is longer than 3 words; padding words never count
    start[0, 1, 0], end[0, 1, 1], end[0, 1, 3], match[0, 1, 0, 1], match[0, 1, 0, 3] = 0.9, 0.6, 0.9, 0.6, 0.9
    start[1, 1, 4], end[1, 1, 5], match[1, 1, 4, 5] = 0.9, 0.9, 0.9
    mask = torch.tensor([[True] * 6, [True] * 4 + [False] * 2])
    n = torch.arange(6)
    width = n.view(1, 6) - n.view(6, 1)
    allowed = ((width >= 0) & (width < 3) & mask.unsqueeze(2) & mask.unsqueeze(1)).unsqueeze(0)
    scored = matched_spans(start, end, allowed, lambda pairs: match[tuple(pairs.T)], types)
    assert [[span for _, span in row] for row in scored] == [
        [(1, 3, "Disease"), (2, 4, "Drug")],
        [(0, 2, "Disease")],
    ]
    assert scored[0][0][0] == pytest.approx(0.9 * 0.8 * 0.9)
    assert flat_indexes(scored, [6, 4], tags) == [[0, 0, 3, 4, 0, 0], [1, 2, 0, 0]]


def test_the_queries_travel_with_a_checkpoint_and_a_frozen_encoder_does_not():
    config = ModelConfig(name="mrc", mrc_queries=str(QUERIES))
    model = build_tagger(
        config, iob2.tag_vocabulary(["Disease", "Drug"]), "frozen", EncoderSpec("tiny-random")
    )
    saved = model_tensors(model)
    assert saved["query_ids"].shape[0] == 2 and (saved["query_ids"][:, 0] > 0).all()
    assert not any(name.startswith("source.word_encoder.") for name in saved)
    assert any(name.startswith("source.word_encoder.") for name, _ in model.named_parameters())


def test_queries_that_push_a_window_past_the_encoders_positions_are_refused():
    config = ModelConfig(name="mrc", mrc_queries=str(QUERIES))
    with pytest.raises(ValueError, match="positions"):  # 512-piece windows leave no room for a query
        build_tagger(
            config, iob2.tag_vocabulary(["Drug"]), "finetune", EncoderSpec("tiny-random", window=512)
        )


def test_mrc_learns_the_synthetic_corpus(corpus, tmp_path):
    # the tiny random encoder learns to read the query slowly, and unsteadily: 10 epochs
    config = synthetic_run_config(corpus, tmp_path, name="mrc", epochs=10)
    config.model.mrc_queries = str(QUERIES)
    record = train_and_evaluate(config)
    micro = record["decodings"]["constrained"]["scores"]["micro"]
    assert micro["f1"] >= 0.7  # 0.84 here; a model that cannot learn scores ~0


def test_memoised_frozen_states_equal_the_live_encoders_and_are_reused():
    from entity_bert.models.batching import Example, collate
    from entity_bert.models.encoder import encode_sentence, load_tokenizer

    spec = EncoderSpec("tiny-random")
    model = build_tagger(
        ModelConfig(name="mrc", mrc_queries=str(QUERIES)),
        iob2.tag_vocabulary(["Disease", "Drug"]),
        "frozen",
        spec,
    ).eval()
    tokenizer = load_tokenizer(spec)
    words = [["aspirin", "eases", "pain"], ["the", "patient", "had", "a", "long", "fever", "today"]]
    batch = collate([Example([0] * len(w), encoded=encode_sentence(tokenizer, w, spec)) for w in words])
    with torch.no_grad():
        live = model.word_states(batch)
        model.memoise(True)
        first = model.word_states(batch)
        calls = []
        model.source.word_encoder.encoder.register_forward_hook(lambda *args: calls.append(1))
        again = model.word_states(batch)
        model.memoise(False)
    assert torch.allclose(live, first, atol=1e-5) and torch.equal(first, again)
    assert calls == [] and model.memo is None  # the second read came from the memo; off frees it


def test_match_logits_are_the_same_projected_per_pair_or_per_word():
    """m(concat(E_i, E_j)) is one function, whether W_1 runs on each pair or once on each word."""
    torch.manual_seed(0)
    config = ModelConfig(name="mrc", mrc_queries=str(QUERIES))
    tags = iob2.tag_vocabulary(["Disease", "Drug"])
    model = build_tagger(config, tags, "frozen", EncoderSpec("tiny-random")).eval()
    states = torch.randn(2, 3, 5, model.source.output_size)  # [T, B, n, d]: 30 words
    every = torch.cartesian_prod(*(torch.arange(k) for k in (2, 3, 5, 5)))  # 150 pairs: per word
    few = every[::12]  # 13 pairs: per pair
    assert len(every) > states[..., 0].numel() > len(few)
    torch.testing.assert_close(model.match_logits(states, every)[::12], model.match_logits(states, few))
