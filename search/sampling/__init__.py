"""What the sampler works with: the search space of a sweep file as Optuna distributions and
constants (``space``), and what Optuna is told of each trial (``telling``); the searchers
themselves are built in ``search.tune.optuna_search``."""
