"""Synthetic study runs: result dicts shaped like ``results/<profile>/runs/*/*.json``, for tests.

Each corpus gets random gold IOB2 sentences; each system predicts them with a
given skill (the chance of getting a gold entity exactly right; the misses are
dropped, cut short or mistyped, and unskilled systems add false positives).
The scores and the per-sentence counts are computed by the project's own
``entity_bert.scoring.metrics`` from those tags, so they agree as in a real run.
"""

from __future__ import annotations

import random

from entity_bert.runs.record import with_decoding
from entity_bert.scoring.metrics import decoding_scores

TYPES = ["Disease", "Drug"]
SKILLS = {"bert": 0.6, "container": 0.3, "entity-bert": 0.9}


def gold_sentences(corpus: str, count: int) -> list[list[str]]:
    """``count`` random IOB2 sentences of 8-14 tokens with 1-3 entities each (same for the same corpus)."""
    rng = random.Random(f"gold-{corpus}")
    sentences = []
    for _ in range(count):
        tags = ["O"] * rng.randint(8, 14)
        for _ in range(rng.randint(1, 3)):
            start, length = rng.randrange(len(tags) - 3), rng.randint(1, 3)
            if all(t == "O" for t in tags[max(0, start - 1) : start + length + 1]):
                kind = rng.choice(TYPES)
                tags[start : start + length] = [f"B-{kind}"] + [f"I-{kind}"] * (length - 1)
        if all(t == "O" for t in tags):
            tags[0] = "B-Disease"
        sentences.append(tags)
    return sentences


def _entities(tags: list[str]) -> list[tuple[int, int, str]]:
    spans = []
    for i, tag in enumerate(tags):
        if tag.startswith("B-"):
            end = i + 1
            while end < len(tags) and tags[end] == f"I-{tag[2:]}":
                end += 1
            spans.append((i, end, tag[2:]))
    return spans


def predict(gold: list[str], skill: float, rng: random.Random) -> list[str]:
    """A prediction of ``gold``: each entity right with chance ``skill``, else dropped, cut or mistyped."""
    tags = ["O"] * len(gold)
    for start, end, kind in _entities(gold):
        miss = rng.random()
        if miss < skill:
            tags[start:end] = gold[start:end]
        elif miss < skill + (1 - skill) / 3:
            other = TYPES[1 - TYPES.index(kind)]
            tags[start:end] = [f"B-{other}"] + [f"I-{other}"] * (end - start - 1)
        elif miss < skill + 2 * (1 - skill) / 3 and end - start > 1:
            tags[start] = f"B-{kind}"
    if rng.random() > skill and tags[-1] == "O" and gold[-1] == "O":
        tags[-1] = "B-Drug"  # a false positive
    return tags


def stray(tags: list[str], rng: random.Random) -> list[str]:
    """``tags`` as an argmax decoding might leave them: some entities lose their ``B-`` (a stray ``I-``)."""
    out = list(tags)
    for start, end, _ in _entities(tags):
        if end - start > 1 and rng.random() < 0.3:
            out[start] = "O"
    return out


def make_run(
    corpus: str,
    system: str,
    seed: int,
    skill: float,
    sentences: int = 20,
    scored: int | None = None,
    decode: str | None = "constrained",
) -> dict:
    """One run of ``system`` with ``seed`` on the first ``scored`` (default all) test sentences.

    Scored under both decodings (argmax leaves some stray ``I-`` tags); with
    ``decode``, as the tables read it (:func:`with_decoding`), else as written.
    """
    rng = random.Random(f"{corpus}-{system}-{seed}")
    gold = gold_sentences(corpus, sentences)[: scored or sentences]
    predicted = [predict(tags, skill, rng) for tags in gold]
    argmax = [stray(tags, rng) for tags in predicted]
    decodings = {"constrained": decoding_scores(gold, predicted), "argmax": decoding_scores(gold, argmax)}
    scores = decodings["constrained"]["scores"]
    slow = 1 + list(SKILLS).index(system) if system in SKILLS else 1
    record = {
        "corpus": corpus,
        "split": "test",
        "label_set": "all",
        "model": system,
        "variant": system,
        "cell": "lstm",
        "regime": "frozen",
        "seed": seed,
        "decodings": decodings,
        "dev_scores": scores,
        "best_epoch": 2,
        "epochs_run": 3,
        "history": [{"epoch": e, "loss": 1.0 / e, "dev_f1": scores["micro"]["f1"]} for e in (1, 2, 3)],
        "efficiency": {
            "parameters_m": 20.0 + slow,
            "trainable_parameters_m": 0.5 * slow,
            "flops_g": 0.5 * slow,
            "latency_ms": 10.0 * slow + rng.random(),
            "throughput_sentences_per_s": 100.0 / slow,
            "training_s": 60.0 * slow + rng.random(),
            "timed_sentences": 10,
            "device": "cpu",
            "threads": 2,
        },
        "tags": ["O", "B-Disease", "I-Disease", "B-Drug", "I-Drug"],
        "test_sentences": list(range(len(gold))),
        "config": {"regime": "frozen", "epochs": 3, "max_train_sentences": 200, "max_eval_sentences": scored},
        "study": {"profile": "test", "system": system},
    }
    return with_decoding(record, decode) if decode else record


def make_study_runs(
    corpora: tuple[str, ...] = ("maccrobat2020", "jnlpba"),
    skills: dict[str, float] | None = None,
    seeds: tuple[int, ...] = (13, 14, 15),
    sentences: int = 20,
    scored: dict[str, int] | None = None,
) -> list[dict]:
    """Every (corpus, system, seed): by default 2 corpora, 3 systems, 3 seeds, 20 sentences.

    ``scored`` gives a system fewer test sentences (a nested prefix), as the
    study does for expensive systems.
    """
    skills = skills or SKILLS
    scored = scored or {}
    return [
        make_run(corpus, system, seed, skill, sentences, scored.get(system))
        for corpus in corpora
        for system, skill in skills.items()
        for seed in seeds
    ]
