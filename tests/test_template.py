"""Template-based NER (Cui et al. 2021): templates, span texts, exact tree scoring, decoding, learnability."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForSeq2SeqLM, BartConfig, BartForConditionalGeneration

from entity_bert.models.batching import Example, collate
from entity_bert.models.config import EncoderSpec, ModelConfig
from entity_bert.models.encoder import encode_sentence, load_tokenizer
from entity_bert.models.registry import build_tagger
from entity_bert.models.template import (
    Trie,
    ancestor_mask,
    choose_spans,
    sentence_pieces,
    span_text_pieces,
    target_tree,
    template_continuations,
    template_texts,
    type_words,
)
from entity_bert.training.evaluation import train_and_evaluate

from .synthetic import synthetic_run_config

TINY = EncoderSpec(name="tiny-random")
TAGS = ["O", "B-Disease", "I-Disease", "B-Laboratory_test", "I-Laboratory_test"]
WORDS = [["Serum", "hyperkalaemia", "was", "seen", "."], ["Glucose", "was", "high"]]


def _batch(sentences: list[list[str]], spec: EncoderSpec = TINY) -> dict:
    tokenizer = load_tokenizer(spec)
    return collate([Example([0] * len(s), encode_sentence(tokenizer, s, spec)) for s in sentences])


def test_type_words_and_the_two_templates():
    assert type_words("Laboratory_test") == "laboratory test"
    assert type_words("cell_line") == "cell line"
    assert type_words("SignSymptom") == "sign symptom"
    assert template_texts("heart failure", ["Disease", "Laboratory_test"]) == [
        "heart failure is a disease entity",
        "heart failure is a laboratory test entity",
        "heart failure is not a named entity",
    ]
    tokenizer = load_tokenizer(TINY)
    continuations = template_continuations(tokenizer, ["Disease", "Laboratory_test"])
    assert [tokenizer.decode(c) for c in continuations] == [
        "is a disease entity",
        "is a laboratory test entity",
        "is not a named entity",
    ]
    trie = Trie.build(continuations)
    assert len(trie.tokens) == len(
        set(map(tuple, [c[:i] for c in continuations for i in range(1, len(c) + 1)]))
    )
    assert [trie.tokens[node] for node in trie.paths[1]] == continuations[1]


def test_span_text_is_recovered_from_the_batch():
    tokenizer = load_tokenizer(TINY)
    words = sentence_pieces(_batch(WORDS))
    assert [len(w) for w in words] == [5, 3]
    for sentence, pieces in zip(WORDS, words, strict=True):
        for word, recovered in zip(sentence, pieces, strict=True):
            assert recovered == tokenizer(word, add_special_tokens=False)["input_ids"]
    expected = tokenizer("hyperkalaemia was", add_special_tokens=False)["input_ids"]
    assert span_text_pieces(words[0], 1, 3) == expected


def test_ancestor_mask_follows_parents():
    parents = torch.tensor([[-1, 0, 1, 1, 3, -1]])  # a tree 0 -> 1 -> {2, 3 -> 4}, then padding
    mask = ancestor_mask(parents)[0]
    assert mask[4].tolist() == [True, True, False, True, True, False]
    assert mask[2].tolist() == [True, True, True, False, False, False]
    assert mask[5].tolist() == [False] * 5 + [True]


def test_tree_scores_equal_templates_decoded_one_by_one():
    torch.manual_seed(0)
    model = build_tagger(ModelConfig(name="template", span_max_words=3), TAGS, "finetune", TINY).eval()
    batch = _batch(WORDS)
    with torch.no_grad():
        results = model.template_scores(batch)
        memory, memory_mask = model.memory(batch)
        words = sentence_pieces(batch)
        for b, (spans, scores) in enumerate(results):
            assert len(spans) == {0: 5 + 4 + 3, 1: 3 + 2 + 1}[b] and scores.shape == (len(spans), 3)
            for (first, end), row in zip(spans, scores, strict=True):
                for k, template in enumerate(model.templates):
                    target = span_text_pieces(words[b], first, end) + template
                    hidden = model.decoder.bert(
                        input_ids=torch.tensor([[model.start_id, *target[:-1]]]),
                        encoder_hidden_states=memory[b : b + 1],
                        encoder_attention_mask=memory_mask[b : b + 1].long(),
                    ).last_hidden_state[0]
                    alone = model.log_probs(hidden)[torch.arange(len(target)), torch.tensor(target)].sum()
                    assert row[k].item() == pytest.approx(alone.item(), abs=1e-3)


def test_decoding_negative_template_and_overlaps():
    types = ["Disease", "Drug"]
    spans = [(0, 1), (0, 2), (1, 2), (3, 4), (4, 6)]
    scores = torch.tensor(
        [
            [-5.0, -6.0, -1.0],  # negative template wins: no entity
            [-2.0, -9.0, -8.0],  # Disease, overlaps (1, 2) and scores higher: kept
            [-9.0, -3.0, -8.0],  # Drug, overlapped by a better span: dropped
            [-9.0, -4.0, -5.0],  # Drug, alone: kept
            [-3.0, -3.5, -3.2],  # Disease, by a small margin: kept
        ]
    )
    chosen = choose_spans(spans, scores, types)
    assert chosen == [(0, 2, "Disease"), (3, 4, "Drug"), (4, 6, "Disease")]
    model = build_tagger(
        ModelConfig(name="template"), ["O", "B-Disease", "I-Disease", "B-Drug", "I-Drug"], "finetune", TINY
    )
    model.template_scores = lambda batch: [(spans, scores)]
    batch = {"mask": torch.ones(1, 7, dtype=torch.bool)}
    assert model.decode(batch) == [[1, 2, 0, 3, 1, 2, 0]]


def test_training_samples_gold_and_negative_spans():
    torch.manual_seed(0)
    model = build_tagger(ModelConfig(name="template", span_max_words=2), TAGS, "finetune", TINY)
    batch = _batch(WORDS)
    batch["labels"] = torch.tensor([[0, 1, 0, 0, 0], [3, 0, 0, -100, -100]])
    batch["mask"] = batch["labels"] != -100
    chosen = model.training_spans(batch)
    assert chosen[:2] == [(0, 1, 2, 0), (1, 0, 1, 1)]
    negatives = chosen[2:]
    assert len(negatives) == 3 and all(k == 2 for *_, k in negatives)
    assert not {(b, f, e) for b, f, e, _ in negatives} & {(0, 1, 2), (1, 0, 1)}
    loss = model.loss(batch)
    assert loss.ndim == 0 and loss.dtype == torch.float32 and torch.isfinite(loss)


def test_template_ner_learns_the_synthetic_corpus(corpus, tmp_path):
    # decoding scores every span with every template over a 30k-piece vocabulary: dev and test are
    # cut to 10 sentences (20 entities) each to keep the test quick
    config = synthetic_run_config(
        corpus, tmp_path, name="template", epochs=6, lr=1e-2, batch_size=8, max_eval_sentences=10
    )
    config.model.span_max_words = 3  # the synthetic entities have at most 3 words
    record = train_and_evaluate(config)
    assert record["decodings"]["constrained"]["scores"]["micro"]["f1"] >= 0.8


# ------------------------------------------------------------------ a seq2seq checkpoint (template_decoder)


@pytest.fixture(scope="module")
def seq2seq_folder(tmp_path_factory) -> str:
    """A tiny random BART saved with its own tokenizer (the packaged BERT one: no BART files offline)."""
    folder = tmp_path_factory.mktemp("bart")
    tokenizer = load_tokenizer(EncoderSpec())
    sizes = {"d_model": 16, "encoder_ffn_dim": 32, "decoder_ffn_dim": 32, "max_position_embeddings": 128}
    layers = {
        "encoder_layers": 1,
        "decoder_layers": 1,
        "encoder_attention_heads": 2,
        "decoder_attention_heads": 2,
    }
    ids = {
        "pad_token_id": tokenizer.pad_token_id,
        "bos_token_id": tokenizer.cls_token_id,
        "eos_token_id": tokenizer.sep_token_id,
        "decoder_start_token_id": tokenizer.sep_token_id,
        "forced_eos_token_id": None,
    }
    torch.manual_seed(0)
    config = BartConfig(vocab_size=len(tokenizer), **sizes, **layers, **ids)
    model = BartForConditionalGeneration(config)
    torch.nn.init.normal_(model.final_logits_bias, std=0.5)  # so that a forgotten bias shows
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def test_seq2seq_scores_equal_templates_decoded_by_the_checkpoint(seq2seq_folder):
    spec = EncoderSpec(name=seq2seq_folder)
    config = ModelConfig(name="template", span_max_words=2, template_decoder=seq2seq_folder)
    model = build_tagger(config, TAGS, "finetune", spec).eval()
    saved = model.state_dict().values()  # safetensors: no tensor saved twice
    assert len({t.data_ptr() for t in saved}) == len(saved)
    assert any(n.startswith("source.word_encoder.encoder.") for n, _ in model.named_parameters())
    batch = _batch(WORDS, spec)
    reference = AutoModelForSeq2SeqLM.from_pretrained(seq2seq_folder).eval()
    tokenizer = load_tokenizer(spec)
    start = reference.config.decoder_start_token_id
    with torch.no_grad():
        spans, scores = model.template_scores(batch)[0]
        assert spans == [(0, 1), (0, 2), (1, 2), (1, 3), (2, 3), (2, 4), (3, 4), (3, 5), (4, 5)]
        sentence = tokenizer(WORDS[0], is_split_into_words=True, return_tensors="pt")
        for (first, end), row in zip(spans, scores, strict=True):
            for k, template in enumerate(
                template_texts(" ".join(WORDS[0][first:end]), ["Disease", "Laboratory_test"])
            ):
                target = tokenizer(template.split(), is_split_into_words=True, add_special_tokens=False)
                target = target["input_ids"]
                logits = reference(**sentence, decoder_input_ids=torch.tensor([[start, *target[:-1]]])).logits
                alone = logits[0].log_softmax(-1)[torch.arange(len(target)), torch.tensor(target)].sum()
                assert row[k].item() == pytest.approx(alone.item(), abs=1e-4)


def test_template_decoder_must_be_the_encoder(seq2seq_folder):
    config = ModelConfig(name="template", template_decoder=seq2seq_folder)
    with pytest.raises(ValueError, match="must also be the run's encoder") as error:
        build_tagger(config, TAGS, "finetune", TINY)
    assert seq2seq_folder in str(error.value) and "tiny-random" in str(error.value)


def test_seq2seq_template_ner_trains_through_the_engine(seq2seq_folder, corpus, tmp_path):
    config = synthetic_run_config(
        corpus, tmp_path, name="template", epochs=2, lr=1e-2, batch_size=8, max_eval_sentences=5
    )
    config.encoder = EncoderSpec(name=seq2seq_folder)
    config.model.span_max_words = 3
    config.model.template_decoder = seq2seq_folder
    record = train_and_evaluate(config)
    losses = [epoch["loss"] for epoch in record["history"]]
    assert len(losses) == 2 and losses[1] < losses[0]
    assert 0.0 <= record["decodings"]["constrained"]["scores"]["micro"]["f1"] <= 1.0


def test_the_tree_packed_loss_equals_templates_decoded_one_by_one():
    """Training decodes a sentence's targets as one prefix tree: the same mean cross-entropy (Eq. 1-3)."""
    model = build_tagger(ModelConfig(name="template", span_max_words=3), TAGS, "finetune", TINY).eval()
    batch = _batch(WORDS)
    batch["labels"] = torch.tensor([[0, 1, 0, 0, 0], [3, 0, 0, -100, -100]])
    model.negatives = 100.0  # every non-entity span: spans that start at one word share pieces
    torch.manual_seed(0)  # the negative spans are sampled from torch's RNG
    tree = model.loss(batch)
    torch.manual_seed(0)
    targets = model.training_targets(batch)
    assert len(targets) > 4  # gold and sampled negatives
    first = [t for b, t in targets if b == 0]
    shared = target_tree(0, first, model.start_id)
    assert len(shared.ids) - 1 < sum(len(t) for t in first)  # some prefixes are shared, decoded once
    memory, memory_mask = model.memory(batch)
    log_probs, labels, _ = model.teacher_forced(targets, memory, memory_mask)
    assert tree.item() == pytest.approx(torch.nn.functional.nll_loss(log_probs, labels).item(), abs=1e-5)
    tree.backward()
    assert model.decoder.bert.embeddings.word_embeddings.weight.grad.abs().sum() > 0
