"""The encoder: offline loading with its hash checked, and words over word-piece windows."""

from __future__ import annotations

import pytest
import torch

from entity_bert.models.batching import Example, collate
from entity_bert.models.encoder import (
    PACKAGED_SHA256,
    EncoderError,
    EncoderSpec,
    WordEncoder,
    encode_sentence,
    fingerprint,
    load_encoder,
    load_tokenizer,
)

WORDS = [
    "The",
    "patient",
    ",",
    "a",
    "48",
    "-",
    "year",
    "-",
    "old",
    "naïve",
    "man",
    ",",
    "took",
    "β",
    "-",
    "blockers",
    "for",
    "hypertension",
    "daily",
    ".",
]


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(EncoderSpec())


def test_packaged_encoder_loads_offline_with_its_published_hash():
    spec = EncoderSpec()
    assert fingerprint(spec) == PACKAGED_SHA256
    encoder = load_encoder(spec)
    assert (encoder.config.hidden_size, encoder.config.num_hidden_layers) == (384, 6)


def test_a_wrong_expected_hash_is_refused():
    with pytest.raises(EncoderError, match="does not match"):
        fingerprint(EncoderSpec(sha256="0" * 64))


def test_short_sentence_is_one_window_with_first_pieces(tokenizer):
    encoded = encode_sentence(tokenizer, WORDS, EncoderSpec())
    assert len(encoded.windows) == 1
    window = encoded.windows[0]
    assert window[0] == tokenizer.cls_token_id and window[-1] == tokenizer.sep_token_id
    firsts = [tokenizer.convert_ids_to_tokens(window[p]) for _, p in encoded.first_piece]
    assert firsts[WORDS.index("blockers")] == "block" and firsts[WORDS.index("naïve")] == "naive"
    assert len(encoded.first_piece) == len(WORDS)


def test_long_sentence_is_cut_into_overlapping_windows_and_no_word_is_lost(tokenizer):
    spec = EncoderSpec(window=10, overlap=3)
    words = WORDS * 3
    encoded = encode_sentence(tokenizer, words, spec)
    assert len(encoded.windows) > 3
    assert all(len(w) <= spec.window for w in encoded.windows)
    assert len(encoded.first_piece) == len(words)
    for word, (k, position) in zip(words, encoded.first_piece, strict=True):
        expected = tokenizer(word, add_special_tokens=False)["input_ids"][0]
        assert encoded.windows[k][position] == expected
    # consecutive windows share pieces
    assert any(
        set(a[1:-1]) & set(b[1:-1]) for a, b in zip(encoded.windows, encoded.windows[1:], strict=False)
    )


def test_a_word_without_pieces_becomes_unknown(tokenizer):
    encoded = encode_sentence(tokenizer, ["fever", "\u200b", "today"], EncoderSpec())
    k, position = encoded.first_piece[1]
    assert encoded.windows[k][position] == tokenizer.unk_token_id


def test_windowed_features_match_single_window_features_inside_the_context(tokenizer):
    torch.manual_seed(0)
    spec = EncoderSpec(name="tiny-random")
    word_encoder = WordEncoder(load_encoder(spec)).eval()
    words = WORDS[:8]
    whole = collate([Example([0] * len(words), encoded=encode_sentence(tokenizer, words, spec))])
    windowed_spec = EncoderSpec(name="tiny-random", window=8, overlap=4)
    windowed = collate([Example([0] * len(words), encoded=encode_sentence(tokenizer, words, windowed_spec))])
    with torch.no_grad():
        a = word_encoder(whole["input_ids"], whole["attention_mask"], whole["word_index"])
        b = word_encoder(windowed["input_ids"], windowed["attention_mask"], windowed["word_index"])
    assert a.shape == b.shape == (1, len(words), 32)
    assert not torch.allclose(a, b)  # windows see less context: the features differ, but exist for every word


def test_batches_pad_and_index_words_across_windows(tokenizer):
    spec = EncoderSpec(window=8, overlap=2)
    examples = [
        Example([0] * len(w), encoded=encode_sentence(tokenizer, w, spec)) for w in (WORDS, WORDS[:3])
    ]
    batch = collate(examples)
    assert batch["mask"].tolist()[1] == [True] * 3 + [False] * (len(WORDS) - 3)
    flat = batch["input_ids"].flatten()
    first_word_piece = tokenizer("The", add_special_tokens=False)["input_ids"][0]
    assert flat[batch["word_index"][0, 0]] == first_word_piece
    assert flat[batch["word_index"][1, 0]] == first_word_piece


def test_batches_give_each_words_pieces_in_its_window(tokenizer):
    spec = EncoderSpec(window=8, overlap=2)  # several windows: pieces are read in each word's best window
    batch = collate([Example([0] * len(WORDS), encoded=encode_sentence(tokenizer, WORDS, spec))])
    flat = batch["input_ids"].flatten().tolist()
    for w, word in enumerate(WORDS):
        start, count = batch["word_index"][0, w].item(), batch["word_pieces"][0, w].item()
        assert flat[start : start + count] == tokenizer(word, add_special_tokens=False)["input_ids"]


def test_lower_then_upper_layers_are_the_whole_encoder():
    """The top regime's split of the encoder (cached lower states, trained upper layers) changes nothing."""
    import torch
    from transformers import BertConfig, BertModel

    from entity_bert.models.encoder import WordEncoder

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=100, hidden_size=32, num_hidden_layers=3, num_attention_heads=2, intermediate_size=64
    )
    encoder = WordEncoder(BertModel(config, add_pooling_layer=False).eval())
    ids = torch.randint(5, 100, (2, 7))
    mask = torch.ones(2, 7, dtype=torch.long)
    mask[1, 4:] = 0  # a padded window
    index = torch.tensor([[0, 2, 3], [7, 8, 10]])
    whole = encoder(ids, mask, index)
    for fixed in range(encoder.layers + 1):
        split = encoder.upper(encoder.lower(ids, mask, fixed), mask, index, fixed)
        torch.testing.assert_close(split, whole, atol=1e-6, rtol=0)
