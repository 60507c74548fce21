"""Trained models on raw text: a portable model directory (``export``), the recogniser with exact
character offsets (``recogniser``), ``entity-bert predict`` (``predict``) and the span-level check
against gold standoff (``span_eval``). Never imports the training engine."""
