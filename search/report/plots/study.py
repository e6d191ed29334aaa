"""The plots Optuna draws itself, from the sweep's study (``optuna.visualization.matplotlib``):
hyperparameter importances with the evaluator named, the optimization history and parallel
coordinates. Each title says how many trials are behind it: Optuna uses the trials basin told
COMPLETE (completed and rule-stopped trials, at their best objective); pruned trials are not
in them (basin's own plots, ``plots.py``, show every trial and checkpoint).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Callable

import matplotlib.pyplot as plt
import optuna
from optuna.importance import FanovaImportanceEvaluator
from optuna.trial import TrialState
from optuna.visualization import matplotlib as optuna_plots

# fANOVA needs a spread of completed trials; with fewer, importances are noise.
MIN_TRIALS_FOR_IMPORTANCES = 3


def _save(axes, title: str, path: Path) -> Path:
    figure = axes.get_figure()
    for where in ("left", "right"):  # Optuna's own title sits on the left
        axes.set_title("", loc=where)
    axes.set_title(title)
    figure.set_size_inches(9, 5)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _completed(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))


def _drawn(study: optuna.Study, least: int, draw: Callable[[], Any], title: str,
           path: Path) -> Path | None:
    """Draw one of Optuna's plots and title it with its trial count (``{trials}`` in
    ``title``); None with fewer than ``least`` completed trials or when Optuna cannot draw
    it (e.g. importances when every parameter took a single value)."""
    trials = _completed(study)
    if trials < least:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna marks its matplotlib plots experimental
        try:
            axes = draw()
        except (RuntimeError, ValueError):
            plt.close("all")
            return None
    return _save(axes, title.format(trials=trials), path)


def plot_importances(study: optuna.Study, name: str, metric: str, seed: int,
                     path: Path) -> Path | None:
    """fANOVA importances (seeded: a re-run draws the same)."""
    return _drawn(study, MIN_TRIALS_FOR_IMPORTANCES, lambda: optuna_plots.plot_param_importances(
        study, evaluator=FanovaImportanceEvaluator(seed=seed), target_name=metric),
        f"{name}: hyperparameter importances for {metric}\n(fANOVA, seed {seed}, over "
        "{trials} trials told COMPLETE)", path)


def plot_history(study: optuna.Study, name: str, metric: str, path: Path) -> Path | None:
    """The objective by trial number with the best so far."""
    return _drawn(study, 1, lambda: optuna_plots.plot_optimization_history(
        study, target_name=metric), f"{name}: {metric} by trial number, best so far\n"
        "({trials} trials told COMPLETE; pruned trials not shown)", path)


def plot_parallel(study: optuna.Study, name: str, metric: str, path: Path) -> Path | None:
    """Each completed trial's hyperparameters and objective as one line."""
    return _drawn(study, 2, lambda: optuna_plots.plot_parallel_coordinate(
        study, target_name=metric), f"{name}: hyperparameters and {metric}\n({{trials}} trials "
        "told COMPLETE)", path)
