"""Entity-level scores (seqeval strict, IOB2), token accuracy, input checks and the summary text."""

from __future__ import annotations

import json
import warnings

import pytest
from seqeval.metrics import f1_score, precision_score, recall_score

from entity_bert.scoring.metrics import entity_scores, format_scores

# Sentence 0: the Disease span is predicted one token too short (boundary error),
#             the Drug span is exactly right.
# Sentence 1: the Drug span is predicted with the right boundaries but as Disease (type error),
#             and a spurious Age entity is predicted on the last token.
GOLD = [
    ["B-Disease", "I-Disease", "I-Disease", "O", "B-Drug", "O"],
    ["O", "B-Drug", "I-Drug", "O", "O"],
]
PREDICTED = [
    ["B-Disease", "I-Disease", "O", "O", "B-Drug", "O"],
    ["O", "B-Disease", "I-Disease", "O", "B-Age"],
]


def test_hand_computed_example():
    # Gold entities:      Disease(0:0-3), Drug(0:4-5), Drug(1:1-3)            -> 3
    # Predicted entities: Disease(0:0-2), Drug(0:4-5), Disease(1:1-3), Age(1:4-5) -> 4
    #
    # Disease: TP 0; FP 2 (0:0-2 too short, 1:1-3 wrong type); FN 1 (0:0-3)
    #          P = 0/2 = 0, R = 0/1 = 0, F1 = 0, support 1
    # Drug:    TP 1 (0:4-5); FP 0; FN 1 (1:1-3, predicted as Disease)
    #          P = 1/1, R = 1/2, F1 = 2*1*(1/2) / (1 + 1/2) = 2/3, support 2
    # Age:     TP 0; FP 1 (spurious); FN 0
    #          P = 0/1 = 0, R = 0/0 -> 0 (zero_division), F1 = 0, support 0
    # Micro:   TP 1, predicted 4, gold 3
    #          P = 1/4, R = 1/3, F1 = 2*(1/4)*(1/3) / (1/4 + 1/3) = (1/6) / (7/12) = 2/7
    # Tokens:  sentence 0: 5 of 6 equal (token 2 differs); sentence 1: 2 of 5 (tokens 1, 2, 4 differ)
    #          accuracy = 7/11
    scores = entity_scores(GOLD, PREDICTED)

    assert scores["micro"] == pytest.approx({"precision": 1 / 4, "recall": 1 / 3, "f1": 2 / 7, "support": 3})
    assert scores["per_type"] == {
        "Age": pytest.approx({"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}),
        "Disease": pytest.approx({"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}),
        "Drug": pytest.approx({"precision": 1.0, "recall": 1 / 2, "f1": 2 / 3, "support": 2}),
    }
    assert scores["token_accuracy"] == pytest.approx(7 / 11)
    assert scores["sentences"] == 2
    assert scores["tokens"] == 11


def test_strict_mode_does_not_count_a_chunk_opened_by_i_after_o():
    gold = [["O", "B-X", "I-X", "O"]]
    predicted = [["O", "I-X", "I-X", "O"]]  # covers the gold span, but opens with I-X after O

    scores = entity_scores(gold, predicted)
    assert scores["micro"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}

    # seqeval's default (conlleval-like) mode reads the I-X as a new entity and scores it a match:
    # the difference is real, and strict mode is the one we use.
    assert f1_score(gold, predicted) == pytest.approx(1.0)


def test_strict_mode_invalid_chunk_is_neither_true_nor_false_positive():
    gold = [["B-X", "I-X", "O", "B-X"]]
    predicted = [["I-X", "I-X", "O", "B-X"]]

    scores = entity_scores(gold, predicted)
    # Strict: one predicted entity (3-4), a match; the I-X chunk is not an entity at all.
    assert scores["micro"] == pytest.approx({"precision": 1.0, "recall": 1 / 2, "f1": 2 / 3, "support": 2})
    # Default mode: both chunks are entities and both match.
    assert precision_score(gold, predicted) == pytest.approx(1.0)
    assert recall_score(gold, predicted) == pytest.approx(1.0)


def test_predictions_are_not_repaired():
    predicted = [["O", "I-X", "I-X", "O"]]
    copy = [list(tags) for tags in predicted]
    entity_scores([["O", "B-X", "I-X", "O"]], predicted)
    assert predicted == copy


def test_token_accuracy_counts_every_token_including_o():
    gold = [["O", "O", "O", "O", "O", "O", "O", "B-X"], ["O", "O"]]
    predicted = [["O", "O", "O", "O", "O", "O", "O", "O"], ["O", "B-X"]]
    scores = entity_scores(gold, predicted)
    # 10 tokens, 8 equal (all O tokens but one); no entity found at all.
    assert scores["token_accuracy"] == pytest.approx(8 / 10)
    assert scores["tokens"] == 10
    assert scores["micro"]["f1"] == 0.0


def test_perfect_prediction_scores_one_everywhere():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = entity_scores(GOLD, GOLD)
    assert scores["micro"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 3}
    assert set(scores["per_type"]) == {"Disease", "Drug"}
    for row in scores["per_type"].values():
        assert (row["precision"], row["recall"], row["f1"]) == (1.0, 1.0, 1.0)
    assert scores["token_accuracy"] == 1.0


def test_no_predicted_entities_scores_zero_without_warnings():
    predicted = [["O"] * len(tags) for tags in GOLD]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = entity_scores(GOLD, predicted)
    assert scores["micro"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 3}
    assert scores["per_type"]["Disease"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert scores["per_type"]["Drug"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 2}


def test_no_entities_anywhere_scores_zero_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = entity_scores([["O", "O"]], [["O", "O"]])
    assert scores["micro"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert scores["per_type"] == {}
    assert scores["token_accuracy"] == 1.0


def test_per_type_support_is_the_number_of_gold_entities_of_that_type():
    gold = [["B-A", "B-A", "O", "B-B", "I-B"], ["B-A", "O", "B-C"]]
    predicted = [["O", "O", "O", "O", "O"], ["B-B", "I-B", "I-B"]]
    scores = entity_scores(gold, predicted)
    assert {kind: row["support"] for kind, row in scores["per_type"].items()} == {"A": 3, "B": 1, "C": 1}
    assert scores["micro"]["support"] == 5


@pytest.mark.parametrize(
    ("gold", "predicted", "message"),
    [
        ([["O"], ["O"]], [["O"]], "2 gold sentences but 1 predicted"),
        ([["O"], ["O", "O"]], [["O"], ["O"]], "sentence 1: 2 gold tags but 1 predicted"),
        ([["O"], ["O", "B-X"]], [["O"], ["O", "B_X"]], "sentence 1: malformed predicted tag 'B_X'"),
        ([["O", "X-A"]], [["O", "O"]], "sentence 0: malformed gold tag 'X-A'"),
        ([["O"], ["B-"]], [["O"], ["O"]], "sentence 1: malformed gold tag 'B-'"),
        ([["O", None]], [["O", "O"]], "sentence 0: malformed gold tag None"),
        ([["B--X"]], [["B-X"]], "sentence 0: gold tag 'B--X'"),
        ([["O"], ["O", "I-X"]], [["O"], ["O", "B-X"]], "sentence 1: invalid IOB2 in gold"),
        ([], [], "no sentences"),
        ([[], []], [[], []], "no tokens"),
    ],
)
def test_invalid_input_raises_value_error(gold, predicted, message):
    with pytest.raises(ValueError, match=message):
        entity_scores(gold, predicted)


def test_result_is_json_serialisable_and_summary_mentions_every_type():
    scores = entity_scores(GOLD, PREDICTED)
    assert json.loads(json.dumps(scores)) == scores
    for row in (scores["micro"], *scores["per_type"].values()):
        assert type(row["precision"]) is float
        assert type(row["support"]) is int
    assert type(scores["token_accuracy"]) is float

    text = format_scores(scores)
    assert len(text.splitlines()) == 3 + len(scores["per_type"])
    assert "F1 0.2857" in text
    assert "token accuracy 0.6364" in text
    for kind in ("Age", "Disease", "Drug"):
        assert any(line.strip().startswith(kind) for line in text.splitlines())


def test_sentence_counts_sum_to_the_micro_scores():
    from entity_bert.scoring.metrics import sentence_counts

    gold = [["B-X", "I-X", "O", "B-Y"], ["O", "B-X"], ["B-Y", "I-Y"]]
    predicted = [["B-X", "I-X", "O", "B-X"], ["I-X", "B-X"], ["B-Y", "O"]]
    counts = sentence_counts(gold, predicted)
    assert counts["gold"] == [2, 1, 1] and counts["predicted"] == [2, 1, 1] and counts["correct"] == [1, 1, 0]
    scores = entity_scores(gold, predicted)
    assert sum(counts["correct"]) / sum(counts["predicted"]) == scores["micro"]["precision"]
    assert sum(counts["correct"]) / sum(counts["gold"]) == scores["micro"]["recall"]
    assert sum(counts["correct_tokens"]) / sum(counts["tokens"]) == scores["token_accuracy"]
