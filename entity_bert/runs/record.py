"""A run's result record (``<runs_dir>/<run name>.json``): whether it is done, and one decoding's figures.

``training/evaluation.py`` writes the record; its ``decodings`` hold the test
figures of every decoding of :data:`entity_bert.data.iob2.DECODINGS`. The
tables read one of them, the one the study's ``decode`` setting names.
"""

from __future__ import annotations

import json

from entity_bert.runs.config import RunConfig


def done_result(config: RunConfig) -> dict | None:
    """The run's result, if it exists with this very configuration; else None.

    The stored configuration is read back through :class:`RunConfig`, so a
    setting added since (with a default that keeps the old behaviour) does not
    make finished runs look different.
    """
    path = config.result_path
    if not path.exists():
        return None
    record = json.loads(path.read_text("utf-8"))
    return record if RunConfig.from_dict(record["config"]).to_dict() == config.to_dict() else None


def is_done(config: RunConfig) -> bool:
    """Whether the run's result exists, with this very configuration (:func:`done_result`)."""
    return done_result(config) is not None


def with_decoding(record: dict, decode: str) -> dict:
    """A run's result record with one decoding's test figures at its top level, as the tables read it.

    ``scores``, ``conlleval``, ``invalid_transitions`` and ``per_sentence``
    come from ``record["decodings"][decode]``, and ``decode`` names it. A
    record written before runs were scored both ways holds only its argmax
    figures: it is returned as such, labelled ``argmax``.
    """
    if "decodings" not in record:
        return {**record, "decode": "argmax"}
    if decode not in record["decodings"]:
        raise ValueError(f"unknown decoding {decode!r} (the run has {', '.join(record['decodings'])})")
    return {**record, **record["decodings"][decode], "decode": decode}
