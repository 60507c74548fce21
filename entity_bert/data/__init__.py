"""The corpora: where they come from (``sources``), their readers (``conll``, ``brat``), sentences and
tokens (``segmentation``), standoff spans to IOB2 tags (``spans``, ``iob2``), splits (``splits``), and
``prepare``, a corpus in and processed splits with statistics out (``corpus`` holds the types)."""
