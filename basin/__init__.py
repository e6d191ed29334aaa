"""basin's Python API: the same sweeps as the ``basin`` command, with results as objects.

    import basin

    sweep = basin.run("sweeps/tiny.yaml", ["search.num_trials=4"])  # -> basin.Sweep
    sweep.chosen            # the checkpoint handed on: trial_id, step, objective, params
    sweep.trials()          # one row per trial (a pandas DataFrame)
    basin.load(sweep.location)                       # read a run directory back, any time
    basin.export(sweep.location, "bundle")           # a bundle that loads without basin
    basin.train(sweep.best_file, out="retrained")    # re-train the chosen recipe here

``search.api`` holds the code; see its docstrings and the README's "From Python".
"""

from search.api import ExportRefused, Sweep, export, load, run, train
from search.core.errors import SpecError

__all__ = ["ExportRefused", "SpecError", "Sweep", "export", "load", "run", "train"]
