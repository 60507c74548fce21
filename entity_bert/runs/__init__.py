"""A run: its configuration and the one resolver that builds it (``config``), the sentences and
inputs it uses (``data``), its model assembled or read back (``model``), its checkpoints
(``checkpoint``), its result record read under one decoding (``record``). Training, serving
and the study all stand on this room."""
