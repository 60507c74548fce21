"""How predictions are scored and compared: seqeval entity metrics in strict IOB2 mode, the conlleval
reading and token accuracy (``metrics``), paired bootstrap and t-tests (``significance``)."""
