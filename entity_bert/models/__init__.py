"""Models of the study: the encoder and batching they share, one module per model family, and
:mod:`.registry`, the one table of systems from which every list of names is derived."""
