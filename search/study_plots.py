"""The plots Optuna draws itself, from the sweep's study (``optuna.visualization.matplotlib``):
hyperparameter importances with the evaluator named, the optimization history and parallel
coordinates. Each title says how many trials are behind it: Optuna uses the trials basin told
COMPLETE (completed and rule-stopped trials, at their best objective); pruned trials are not
in them (basin's own plots, ``plots.py``, show every trial and checkpoint).
"""

from __future__ import annotations

import warnings
from pathlib import Path

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


def plot_importances(study: optuna.Study, name: str, metric: str, seed: int,
                     path: Path) -> Path | None:
    """fANOVA importances (seeded: a re-run draws the same); None below
    ``MIN_TRIALS_FOR_IMPORTANCES`` completed trials or when there is nothing to vary."""
    trials = _completed(study)
    if trials < MIN_TRIALS_FOR_IMPORTANCES:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna marks its matplotlib plots experimental
        try:
            axes = optuna_plots.plot_param_importances(
                study, evaluator=FanovaImportanceEvaluator(seed=seed), target_name=metric)
        except (RuntimeError, ValueError):  # e.g. a single distinct value per parameter
            plt.close("all")
            return None
    return _save(axes, f"{name}: hyperparameter importances for {metric}\n(fANOVA, seed "
                       f"{seed}, over {trials} trials told COMPLETE)", path)


def plot_history(study: optuna.Study, name: str, metric: str, path: Path) -> Path | None:
    trials = _completed(study)
    if not trials:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        axes = optuna_plots.plot_optimization_history(study, target_name=metric)
    return _save(axes, f"{name}: {metric} by trial number, best so far\n({trials} trials told "
                       "COMPLETE; pruned trials not shown)", path)


def plot_parallel(study: optuna.Study, name: str, metric: str, path: Path) -> Path | None:
    trials = _completed(study)
    if trials < 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        axes = optuna_plots.plot_parallel_coordinate(study, target_name=metric)
    return _save(axes, f"{name}: hyperparameters and {metric}\n({trials} trials told "
                       "COMPLETE)", path)
