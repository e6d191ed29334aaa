"""The laboratory beside the product: benchmarks that measure basin against its alternatives
(random search, Ray's OptunaSearch + ASHA, HF hyperparameter_search), learning-curve tables
and their replay, and the checks behind benchmarks/RESULTS.md. Each script runs from the
project root as a module, e.g. ``python -m benchmarks.search_replay --report``. It uses only
what the product's packages offer publicly, and the product imports nothing from here
(tests/test_layers.py)."""
