"""The plots of the sweep's study: hyperparameter importances as Optuna draws them
(``optuna.visualization.matplotlib``, the evaluator named), and the history and parallel
coordinates drawn here, by trial id (Optuna's own number trials 0, 1, ... and pile up log tick
labels). Each title says how many trials are behind it: Optuna uses the trials basin told
COMPLETE (completed and rule-stopped trials, at their best objective); pruned trials are not
in them (basin's own plots, ``plots.py``, show every trial and checkpoint).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any, Callable

import matplotlib.pyplot as plt
import optuna
from matplotlib import colormaps, patheffects
from optuna.importance import FanovaImportanceEvaluator
from optuna.trial import TrialState
from optuna.visualization import matplotlib as optuna_plots

from search.store.study import RAY_TRIAL_ATTR

# fANOVA needs a spread of completed trials; with fewer, importances are noise: at least this
# many, and at least TRIALS_PER_PARAMETER for each hyperparameter that varied (3 trials of a
# 5-parameter space drew confident bars from nothing).
MIN_TRIALS_FOR_IMPORTANCES = 3
TRIALS_PER_PARAMETER = 2


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
            # Optuna's plots switch matplotlib to its ggplot style for good; kept to this one.
            with plt.style.context("default"):
                axes = draw()
        except (RuntimeError, ValueError):
            plt.close("all")
            return None
    return _save(axes, title.format(trials=trials), path)


def plot_importances(study: optuna.Study, name: str, metric: str, seed: int,
                     path: Path) -> Path | None:
    """fANOVA importances (seeded: a re-run draws the same); none from too few trials."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    varied = [name for name in {n for t in complete for n in t.params}
              if len({repr(t.params.get(name)) for t in complete}) > 1]
    least = max(MIN_TRIALS_FOR_IMPORTANCES, TRIALS_PER_PARAMETER * len(varied))
    return _drawn(study, least, lambda: optuna_plots.plot_param_importances(
        study, evaluator=FanovaImportanceEvaluator(seed=seed), target_name=metric,
        target=objective_of if len(study.directions) > 1 else None),
        f"{name}: hyperparameter importances for {metric}\n(fANOVA, seed {seed}, over "
        "{trials} trials told COMPLETE)", path)


def objective_of(trial: optuna.trial.FrozenTrial) -> float | None:
    """A told trial's objective: its value, or its first value in a two-objective study.
    Compatibility: basin 0.1's ``search.multi_objective`` made such studies (the objective,
    then the drift); their runs still draw. Remove in basin 0.3."""
    return trial.values[0] if trial.values else None


def _told_complete(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return sorted(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)),
                  key=lambda t: t.number)


def _trial_id(trial: optuna.trial.FrozenTrial) -> str:
    """The id every table uses (Optuna's own number only where Ray's id was never recorded)."""
    return str(trial.user_attrs.get(RAY_TRIAL_ATTR, f"#{trial.number}"))


def plot_history(study: optuna.Study, name: str, metric: str, path: Path, mode: str = "min",
                 chosen_id: str | None = None) -> Path | None:
    """The objective of each trial told COMPLETE, in the order they were proposed, labelled by
    trial id, with the best so far and the chosen trial starred."""
    trials = [t for t in _told_complete(study) if objective_of(t) is not None]
    if not trials:
        return None
    figure, axis = plt.subplots(figsize=(max(7.0, 0.55 * len(trials) + 3), 4.8))
    values = [objective_of(t) for t in trials]
    best = (min if mode == "min" else max)
    positions = range(1, len(trials) + 1)
    axis.scatter(positions, values, color="tab:blue", s=40, zorder=3, label=metric)
    axis.step(positions, [best(values[:i + 1]) for i in range(len(values))], where="post",
              color="tab:red", label="best so far")
    for position, trial in zip(positions, trials):
        if _trial_id(trial) == chosen_id:
            axis.scatter(position, objective_of(trial), marker="*", s=260, color="gold",
                         edgecolors="black", zorder=5, label="chosen trial")
    axis.set_xticks(list(positions), [_trial_id(t) for t in trials], rotation=45, ha="right",
                    fontsize=8)
    axis.set_xlabel("trial, in the order proposed")
    axis.set_ylabel(metric)
    axis.grid(alpha=0.3)
    axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, borderaxespad=0)
    axis.set_title(f"{name}: {metric} of each trial, best so far\n({len(trials)} trials told "
                   "COMPLETE; pruned trials not shown)")
    return _written(figure, path)


def plot_parallel(study: optuna.Study, name: str, metric: str, path: Path, mode: str = "min",
                  log_params: tuple[str, ...] = (), chosen_id: str | None = None
                  ) -> Path | None:
    """Each completed trial as one line across its hyperparameters (each axis from its lowest
    to its highest value, a log axis for ``log_params``) to its objective, coloured by the
    objective (dark: better), labelled by trial id at the right (labels spread apart where
    objectives are close); the chosen trial drawn in gold over the others."""
    trials = [t for t in _told_complete(study) if objective_of(t) is not None]
    names = sorted({p for t in trials for p in t.params})
    if len(trials) < 2 or not names:
        return None
    axes_values = [[_numeric(t.params.get(p), p in log_params) for t in trials] for p in names]
    axes_values.append([objective_of(t) for t in trials])
    labels = [*names, metric]
    figure, axis = plt.subplots(figsize=(1.9 * len(labels) + 2, 5))
    spans = [(min(v for v in vs if v is not None), max(v for v in vs if v is not None))
             for vs in axes_values]
    order = sorted(range(len(trials)), key=lambda i: objective_of(trials[i]),
                   reverse=mode == "min")  # the best drawn last, on top
    colours = colormaps["viridis_r" if mode == "min" else "viridis"]
    best, worst = spans[-1] if mode == "min" else spans[-1][::-1]
    ends = {}
    for i in order:
        ys = [_scaled(vs[i], span) for vs, span in zip(axes_values, spans)]
        shade = 0.5 if worst == best else (objective_of(trials[i]) - best) / (worst - best)
        chosen = _trial_id(trials[i]) == chosen_id
        axis.plot(range(len(labels)), ys, color="gold" if chosen else colours(1 - 0.85 * shade),
                  linewidth=3.2 if chosen else 1.6, zorder=4 if chosen else 2,
                  path_effects=[patheffects.withStroke(linewidth=4.6, foreground="black")]
                  if chosen else None)
        ends[_trial_id(trials[i]) + (" (chosen)" if chosen else "")] = ys[-1]
    x = len(labels) - 1
    for label, (y, placed) in zip(ends, zip(ends.values(), spread(list(ends.values()),
                                                             min(0.04, 1.1 / len(ends))))):
        axis.annotate(label, (x, y), xytext=(x + 0.12, placed), textcoords="data", fontsize=7,
                      va="center", arrowprops={"arrowstyle": "-", "color": "grey",
                                               "linewidth": 0.5, "shrinkA": 0, "shrinkB": 0})
    for x, (label, span) in enumerate(zip(labels, spans)):
        axis.axvline(x, color="black", linewidth=0.8)
        low, high = (10 ** span[0], 10 ** span[1]) if label in log_params else span
        axis.annotate(f"{high:.3g}", (x, 1.0), xytext=(0, 4), textcoords="offset points",
                      ha="center", fontsize=8)
        axis.annotate(f"{low:.3g}", (x, 0.0), xytext=(0, -12), textcoords="offset points",
                      ha="center", fontsize=8)
    axis.set_xticks(range(len(labels)), labels)
    axis.set_yticks([])
    for side in axis.spines.values():
        side.set_visible(False)
    axis.set_xlim(-0.2, len(labels) - 0.3)
    axis.set_ylim(-0.08, 1.08)
    axis.set_title(f"{name}: hyperparameters and {metric} ({len(trials)} trials told COMPLETE)"
                   f"\neach axis from its lowest to its highest value; darker lines did better",
                   pad=18)
    return _written(figure, path)


def spread(ys: list[float], gap: float = 0.04) -> list[float]:
    """Label heights near ``ys`` (0-1 axis units, in their order) at least ``gap`` apart:
    pushed up from the lowest, then back down where the top ran past 1."""
    order = sorted(range(len(ys)), key=lambda i: ys[i] if ys[i] == ys[i] else -1.0)
    placed = [ys[i] if ys[i] == ys[i] else 0.0 for i in order]  # NaN: a trial without a value
    for k in range(1, len(placed)):
        placed[k] = max(placed[k], placed[k - 1] + gap)
    if placed and placed[-1] > 1.0:
        placed[-1] = 1.0
        for k in range(len(placed) - 2, -1, -1):
            placed[k] = min(placed[k], placed[k + 1] - gap)
    heights = [0.0] * len(ys)
    for k, i in enumerate(order):
        heights[i] = placed[k]
    return heights


def _numeric(value: Any, log: bool) -> float | None:
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return math.log10(value) if log and value > 0 else float(value)
    return float(abs(hash(str(value))) % 1000)  # a categorical value: a place of its own


def _scaled(value: float | None, span: tuple[float, float]) -> float:
    if value is None:
        return math.nan
    low, high = span
    return 0.5 if high == low else (value - low) / (high - low)


def _written(figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)
    return path
