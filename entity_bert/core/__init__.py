"""Pieces every room uses and that know nothing of NER: errors, atomic file writes, progress bars,
the device and precision, command-line options from dataclass fields, the project's root."""
