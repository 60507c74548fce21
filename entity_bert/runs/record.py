"""A run's result record (``<runs_dir>/<run name>.json``): reading one decoding's test figures.

``training/evaluation.py`` writes the record; its ``decodings`` hold the test
figures of every decoding of :data:`entity_bert.data.iob2.DECODINGS`. The
tables read one of them, the one the study's ``decode`` setting names.
"""

from __future__ import annotations


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
