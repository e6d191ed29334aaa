"""The search space of a sweep file as Optuna distributions and constants (``space``); the
searchers themselves are built in ``search.tune.optuna_search``."""
