"""Training and test scoring: the engine (``engine``), a run trained, scored and written
(``evaluation``), parameters, FLOPs and timings (``efficiency``), cached encoder features
of the frozen regime (``features``). Serving and the report never import this room."""
