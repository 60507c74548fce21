"""The study as DVC runs it: stage commands and profiles (``stages``), the RNN ablation
(``ablation``), the Ray Tune grid search (``grid_search``), benchmarks (``bench``,
``raw_text_bench``) and the explore notebook's helpers (``explore``)."""
