"""Neural models of the study: shared pieces and one module per model family."""
