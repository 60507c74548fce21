"""Neural models of the study: shared pieces and one module per model family."""

# The names every command accepts; models/registry.py says how each is built.
MODEL_NAMES = (
    "entity-bert",
    "bert",
    "bert-crf",
    "mrc",
    "biaffine",
    "template",
    "container",
    "lstm-crf",
    "bilstm-crf",
    "transformer-crf",
    "crf",
)
