"""The feature-based CRF baseline: its features, learnability, determinism, IOB2 output, save/load."""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import asdict
from pathlib import Path

import pytest
from seqeval.metrics import f1_score
from seqeval.scheme import IOB2

from entity_bert.data import iob2
from entity_bert.data.corpus import Sentence
from entity_bert.models.feature_crf import (
    CONFIG_FILE,
    MODEL_FILE,
    FeatureCRF,
    FeatureCRFConfig,
    sentence_features,
    word_features,
)

from .synthetic import fill_template

# ---------------------------------------------------------------- features


TOKENS = ["Aspirin", "and", "IL-2", "."]


def test_word_features_of_a_title_case_word_at_the_start():
    features = word_features(TOKENS, 0, window=2)
    assert features["lower"] == "aspirin"
    assert features["shape"] == "Xxxxx"  # runs capped at four
    assert features["short_shape"] == "Xx"
    assert (features["prefix2"], features["prefix3"], features["prefix4"]) == ("as", "asp", "aspi")
    assert (features["suffix2"], features["suffix3"], features["suffix4"]) == ("in", "rin", "irin")
    assert features["is_title"] is True
    assert features["is_upper"] is False
    assert features["length"] == "5-7"
    assert features["BOS"] is True
    assert "EOS" not in features
    assert features["-1:BOS"] is True and features["-2:BOS"] is True
    assert features["+1:lower"] == "and"
    assert features["+2:lower"] == "il-2"
    assert features["+2:short_shape"] == "X-d"
    assert "+3:lower" not in features


def test_word_features_of_a_gene_name_with_a_hyphen_and_a_digit():
    features = word_features(TOKENS, 2, window=1)
    assert features["shape"] == "XX-d"
    assert features["short_shape"] == "X-d"
    assert features["has_hyphen"] is True
    assert features["has_digit"] is True
    assert features["is_digit"] is False
    assert features["is_upper"] is True
    assert features["is_punct"] is False
    assert features["suffix3"] == "l-2"
    assert "suffix4" not in features  # as long as the word: it would only repeat "lower"
    assert features["-1:lower"] == "and"
    assert features["+1:is_punct"] is True
    assert "-2:lower" not in features and "+2:EOS" not in features
    assert "BOS" not in features and "EOS" not in features


def test_word_features_at_the_end_and_of_punctuation():
    features = word_features(TOKENS, 3, window=2)
    assert features["EOS"] is True
    assert features["+1:EOS"] is True and features["+2:EOS"] is True
    assert features["is_punct"] is True
    assert features["length"] == "1"
    assert features["-2:lower"] == "and"
    assert features["-1:shape"] == "XX-d"


def test_word_features_of_digits_and_a_long_word():
    assert word_features(["1990"], 0, 0)["short_shape"] == "d"
    assert word_features(["1990"], 0, 0)["is_digit"] is True
    assert word_features(["hydroxychloroquine"], 0, 0)["length"] == "12+"


def test_window_zero_gives_no_neighbour_features():
    features = word_features(TOKENS, 1, window=0)
    assert not [key for key in features if key[0] in "+-"]
    assert features["bias"] == 1.0


def test_feature_values_are_strings_floats_or_bools():
    for features in sentence_features(TOKENS, window=2):
        assert all(isinstance(value, str | float | bool) for value in features.values())


def test_word_features_rejects_a_bad_index_or_window():
    with pytest.raises(IndexError):
        word_features(TOKENS, 4, window=2)
    with pytest.raises(ValueError):
        word_features(TOKENS, 0, window=-1)


@pytest.mark.parametrize("field", [{"c1": -0.1}, {"c2": -1.0}, {"max_iterations": 0}, {"window": -1}])
def test_config_rejects_bad_values(field):
    with pytest.raises(ValueError):
        FeatureCRFConfig(**field)


# ---------------------------------------------------------------- a synthetic corpus

DRUGS = [
    "aspirin",
    "ibuprofen",
    "metformin",
    "IL-2",
    "interferon alpha",
    "folic acid",
    "vitamin B12",
    "Tylenol",
]
DISEASES = ["asthma", "migraine", "lung cancer", "type 2 diabetes", "heart failure", "hepatitis B", "flu"]
TEMPLATES = [
    "The patient took {Drug} for {Disease} .",
    "{Drug} was prescribed to treat {Disease} .",
    "She was diagnosed with {Disease} and given {Drug} .",
    "No improvement of {Disease} was seen after {Drug} .",
    "He has had {Disease} since 2010 .",
    "The dose of {Drug} was doubled .",
]


def generate(template: str, drug: str, disease: str) -> Sentence:
    """One sentence from a template: each ``{Type}`` slot becomes a tagged, possibly multi-word, entity."""
    return fill_template(template, {"Drug": drug, "Disease": disease})


def synthetic_corpus(seed: int = 13) -> tuple[list[Sentence], list[Sentence]]:
    """200 training and 50 held-out sentences; no (drug, disease) pair of the held-out set is in training."""
    rng = random.Random(seed)
    pairs = list(itertools.product(DRUGS, DISEASES))
    rng.shuffle(pairs)
    train_pairs, test_pairs = pairs[:40], pairs[40:]
    train = [generate(rng.choice(TEMPLATES), *rng.choice(train_pairs)) for _ in range(200)]
    test = [generate(rng.choice(TEMPLATES), *rng.choice(test_pairs)) for _ in range(50)]
    return train, test


@pytest.fixture(scope="module")
def corpus() -> tuple[list[Sentence], list[Sentence]]:
    return synthetic_corpus()


@pytest.fixture(scope="module")
def trained(corpus) -> FeatureCRF:
    train, _ = corpus
    return FeatureCRF(FeatureCRFConfig()).fit(train)


def test_the_synthetic_corpus_is_valid_iob2_with_multi_word_entities(corpus):
    train, test = corpus
    assert len(train) == 200 and len(test) == 50
    for sentence in train + test:
        assert iob2.invalid_positions(sentence.tags) == []
    assert any(tag.startswith("I-") for sentence in train for tag in sentence.tags)


# ---------------------------------------------------------------- training and prediction


def test_learns_the_synthetic_corpus(corpus, trained):
    _, test = corpus
    gold = [sentence.tags for sentence in test]
    predicted = trained.predict(test)
    assert [len(tags) for tags in predicted] == [len(tags) for tags in gold]
    assert f1_score(gold, predicted, mode="strict", scheme=IOB2) >= 0.9
    assert trained.labels() == ["B-Disease", "B-Drug", "I-Disease", "I-Drug", "O"]


def test_predictions_are_valid_iob2(corpus, trained):
    train, test = corpus
    rng = random.Random(5)
    vocabulary = [*sorted({token for sentence in train for token in sentence.tokens}), "unseen", "ZZ-9"]
    noise = [generate(" ".join(rng.choices(vocabulary, k=rng.randint(1, 12))), "", "") for _ in range(50)]
    for tags in trained.predict(train + test + noise):
        assert iob2.invalid_positions(tags) == []


def test_invalid_i_tags_from_crfsuite_are_repaired_to_b(corpus):
    # Trained on sentences tagged "O I-Drug", crfsuite itself predicts an I- after O.
    train, _ = corpus
    odd = [Sentence(["took", "aspirin"], ["O", "I-Drug"], [(0, 4), (5, 12)], "synthetic") for _ in range(20)]
    model = FeatureCRF(FeatureCRFConfig(window=1)).fit(train[:50] + odd)
    raw = model._fitted_tagger().tag(sentence_features(["took", "aspirin"], 1))
    assert raw == ["O", "I-Drug"]
    assert model.predict(odd[:3]) == [["O", "B-Drug"]] * 3
    assert model.last_repairs == 3


def test_empty_sentences_are_predicted_empty_and_skipped_in_training(corpus, trained):
    train, _ = corpus
    empty = Sentence([], [], [], "synthetic")
    assert trained.predict([empty, train[0]])[0] == []
    with pytest.raises(ValueError, match="no non-empty training sentence"):
        FeatureCRF(FeatureCRFConfig()).fit([empty])


def test_fit_rejects_tokens_and_tags_of_different_lengths():
    bad = Sentence(["a", "b"], ["O"], [(0, 1), (2, 3)], "synthetic")
    with pytest.raises(ValueError, match="2 tokens but 1 tags"):
        FeatureCRF(FeatureCRFConfig()).fit([bad])


def test_predict_before_fit_raises():
    with pytest.raises(RuntimeError):
        FeatureCRF(FeatureCRFConfig()).predict([Sentence(["a"], ["O"], [(0, 1)], "synthetic")])


def test_training_is_deterministic(corpus, trained, tmp_path):
    train, test = corpus
    again = FeatureCRF(FeatureCRFConfig()).fit(train)
    assert again.predict(test) == trained.predict(test)
    trained.save(tmp_path / "a")
    again.save(tmp_path / "b")
    assert (tmp_path / "a" / MODEL_FILE).read_bytes() == (tmp_path / "b" / MODEL_FILE).read_bytes()


def test_dev_is_evaluated_but_not_trained_on(corpus, trained):
    train, test = corpus
    with_dev = FeatureCRF(FeatureCRFConfig()).fit(train, dev=test)
    assert with_dev.predict(test) == trained.predict(test)
    assert with_dev.last_iteration is not None
    assert with_dev.last_iteration["avg_f1"] >= 0.9  # crfsuite's token-level holdout report


# ---------------------------------------------------------------- save, load, parameters


def test_save_load_round_trip_without_pickle(corpus, trained, tmp_path):
    _, test = corpus
    directory = tmp_path / "crf"
    trained.save(directory)
    assert sorted(path.name for path in directory.iterdir()) == [CONFIG_FILE, MODEL_FILE]
    for path in directory.iterdir():
        assert not path.read_bytes().startswith(b"\x80")  # pickle protocol 2+ opcode
        assert path.suffix not in (".pkl", ".pickle", ".joblib")
    assert (directory / MODEL_FILE).read_bytes()[:4] == b"lCRF"
    assert json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8")) == asdict(trained.config)

    loaded = FeatureCRF.load(directory)
    assert loaded.config == trained.config
    assert loaded.predict(test) == trained.predict(test)
    assert loaded.parameter_count() == trained.parameter_count()


def test_save_overwrites_a_previous_model(corpus, trained, tmp_path):
    train, test = corpus
    directory = tmp_path / "crf"
    FeatureCRF(FeatureCRFConfig(window=0, max_iterations=5)).fit(train[:20]).save(directory)
    trained.save(directory)
    assert sorted(path.name for path in directory.iterdir()) == [CONFIG_FILE, MODEL_FILE]
    assert FeatureCRF.load(Path(directory)).predict(test) == trained.predict(test)


def test_parameter_count_is_the_non_zero_weights(trained):
    info = trained._fitted_tagger().info()  # crfsuite's own dump of the model
    weights = [*info.state_features.values(), *info.transitions.values()]
    assert trained.parameter_count() > 0
    assert trained.parameter_count() == sum(weight != 0 for weight in weights)


def test_a_stronger_l1_penalty_keeps_fewer_weights(corpus, trained):
    train, _ = corpus
    sparse = FeatureCRF(FeatureCRFConfig(c1=2.0)).fit(train)
    assert 0 < sparse.parameter_count() < trained.parameter_count()
