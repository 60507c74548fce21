"""A run's data: which sentences of which processed split it uses, as model inputs.

Subsets are seeded and the same for every run seed, so that seeds compare
like with like; ``build_examples`` turns sentences into the inputs of one
input kind (encoder word pieces, or word and character ids).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from entity_bert.data import iob2
from entity_bert.data.corpus import Sentence, read_jsonl
from entity_bert.models.batching import Example, Vocabulary
from entity_bert.models.config import EncoderSpec
from entity_bert.models.encoder import encode_sentence, load_tokenizer
from entity_bert.runs.config import RunConfig

SUBSET_SEED = 0  # the same subset for every run seed, so that seeds compare like with like


def split_file(config: RunConfig, split: str) -> Path:
    return Path(config.processed_dir) / config.corpus / config.label_set / f"{split}.jsonl"


def _limit(config: RunConfig, split: str) -> int | None:
    """The most sentences a run uses of a split (None: all of them)."""
    limits = {
        "train": [config.max_train_sentences],
        "dev": [config.max_eval_sentences, config.max_dev_sentences],  # dev scores early stopping only
        "test": [config.max_eval_sentences],
    }[split]
    return min((limit for limit in limits if limit is not None), default=None)


def subset_indexes(config: RunConfig, split: str, total: int) -> list[int]:
    """Indexes of the sentences a run uses: all, or a seeded subset in corpus order.

    With ``subset_rule: nested`` a subset is a prefix of one seeded permutation,
    so a smaller subset lies inside a larger one: runs scored on different
    numbers of test sentences can still be compared on the sentences they share.
    """
    limit = _limit(config, split)
    if limit is None or limit >= total:
        return list(range(total))
    if config.subset_rule == "nested":
        order = list(range(total))
        random.Random(SUBSET_SEED).shuffle(order)
        return sorted(order[:limit])
    return sorted(random.Random(SUBSET_SEED).sample(range(total), limit))


def load_split(config: RunConfig, split: str) -> list[Sentence]:
    """The sentences of a processed split that the run uses."""
    sentences = read_jsonl(split_file(config, split))
    return [sentences[i] for i in subset_indexes(config, split, len(sentences))]


def label_tags(config: RunConfig) -> list[str]:
    """The tag vocabulary of the run's label set."""
    stats = json.loads((Path(config.processed_dir) / config.corpus / "stats.json").read_text("utf-8"))
    return iob2.tag_vocabulary(stats["label_sets"][config.label_set]["types"])


def build_examples(
    sentences: list[Sentence],
    tags: list[str],
    kind: str,
    encoder: EncoderSpec | None = None,
    vocabulary: Vocabulary | None = None,
    tokenizer=None,
) -> list[Example]:
    """Examples of one input kind: ``windows`` (encoder), ``words`` (scratch)."""
    index = {tag: i for i, tag in enumerate(tags)}
    unknown = sorted({t for s in sentences for t in s.tags} - set(index))
    if unknown:
        raise ValueError(f"tags {unknown} are not in the label set {tags}")
    examples = []
    if kind == "encoder":
        tokenizer = tokenizer or load_tokenizer(encoder)
    for s in sentences:
        labels = [index[t] for t in s.tags]
        if kind == "encoder":
            examples.append(Example(labels, encoded=encode_sentence(tokenizer, s.tokens, encoder)))
        else:
            examples.append(
                Example(
                    labels, word_ids=vocabulary.word_ids(s.tokens), char_ids=vocabulary.char_ids(s.tokens)
                )
            )
    return examples
