"""PNG plots of a sweep, written into its run directory (matplotlib, no display needed).

- ``learning_curves.png``: validation loss and train-subset loss against step, every trial; a
  trial a rule or ASHA stopped ends in the marker of what stopped it, and the chosen checkpoint
  is a star.
- ``gap.png``: the gap against step (with the gap rule's threshold when it has one).
- ``objective_vs_params.png``: each trial's best-ranked candidate against each hyperparameter.
- ``check.png``: once ``basin check`` ran, objective against basin radius and drift
  (``check_plot.py``).
- ``param_importances.png``, ``optimization_history.png``, ``parallel_coordinates.png``:
  drawn by Optuna itself from the study (``study_plots.py``).

Each title says how many trials are behind it. Basin draws by hand only what Optuna cannot:
the train-subset loss beside the validation loss, what stopped each trial, the chosen
checkpoint, and pruned trials' checkpoints (they compete for the choice; Optuna's plots leave
pruned trials out).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on clusters and CI

import matplotlib.pyplot as plt  # noqa: E402

from search.core.layout import (
    CHECK_PLOT,
    GAP_PLOT,
    HISTORY_PLOT,
    LEARNING_CURVES_PLOT,
    OBJECTIVE_VS_PARAMS_PLOT,
    PARALLEL_PLOT,
    PARAM_IMPORTANCES_PLOT,
)
from search.core.outcome import ASHA, COMPLETED, FAILED, PRUNED, RUNNING, STOPPED  # noqa: E402
from search.core.record import TrialRecord  # noqa: E402
from search.report.plots.check import plot_check  # noqa: E402
from search.report.plots.study import plot_history, plot_importances, plot_parallel  # noqa: E402
from search.report.results import choice_of  # noqa: E402
from search.sampling.space import ChoiceParam, ConstantParam, FloatParam, IntParam  # noqa: E402
from search.selection.choice import Choice
from search.stopping import rule_types  # noqa: E402
from search.store.result_files import read_check  # noqa: E402
from search.store.rundir import RunDir  # noqa: E402
from trainables.contract import GAP, STEP, TRAIN_EVAL_LOSS, VAL_LOSS

STATUS_COLOURS = {COMPLETED: "tab:green", STOPPED: "tab:red", PRUNED: "tab:orange",
                  FAILED: "black", RUNNING: "tab:blue"}
# What ended a trial early, by the outcome's kind; any other kind is drawn as a dot.
# How a trial's early end is marked: ASHA's cut, and each stopping rule's own marker.
KIND_MARKERS = {ASHA: "v", **{rule.kind: rule.marker for rule in rule_types().values()}}


def _curve(record: TrialRecord, metric: str) -> tuple[list[int], list[float]]:
    rows = [row for row in record.evaluations if row.get(metric) is not None]
    return [row[STEP] for row in rows], [row[metric] for row in rows]


def _mark_ends(axis, records: list[TrialRecord], metric: str, choice: Choice) -> None:
    """Each stopped trial's last point with the marker of what stopped it, and the chosen
    checkpoint as a star."""
    for record in records:
        marker = KIND_MARKERS.get(record.outcome.kind)
        steps, values = _curve(record, metric)
        if marker and steps:
            axis.scatter(steps[-1], values[-1], marker=marker, s=70, zorder=5,
                         color=STATUS_COLOURS.get(record.outcome.status, "grey"))
        chosen = choice.chosen
        if chosen and chosen.trial_id == record.trial_id and chosen.step in steps:
            axis.scatter(chosen.step, values[steps.index(chosen.step)], marker="*", s=260,
                         zorder=6, color="gold", edgecolors="black")


def _legend_for_ends(axis) -> None:
    for kind, marker in KIND_MARKERS.items():
        axis.scatter([], [], marker=marker, color="grey", label=f"stopped: {kind}")
    axis.scatter([], [], marker="*", s=160, color="gold", edgecolors="black", label="chosen")
    axis.legend(loc="best", fontsize=8)


def _save(figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_learning_curves(records, choice: Choice, title: str, path: Path) -> Path:
    figure, axes = plt.subplots(1, 2, figsize=(13, 5), sharey=True)
    chosen_id = choice.chosen.trial_id if choice.chosen else None
    for axis, metric, name in ((axes[0], VAL_LOSS, "validation loss"),
                               (axes[1], TRAIN_EVAL_LOSS, "train-subset loss (eval mode)")):
        for index, record in enumerate(records):
            steps, values = _curve(record, metric)
            chosen = record.trial_id == chosen_id
            axis.plot(steps, values, color=plt.cm.tab20(index % 20),
                      linewidth=3 if chosen else 1.2,
                      label=f"{record.trial_id}{' (chosen)' if chosen else ''}")
        _mark_ends(axis, records, metric, choice)
        axis.set_title(name)
        axis.set_xlabel("optimizer step")
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("loss")
    axes[0].legend(loc="best", fontsize=7, ncol=2)
    _legend_for_ends(axes[1])
    figure.suptitle(f"{title}: learning curves ({len(records)} trials)")
    return _save(figure, path)


def plot_gap(records, choice: Choice, spec, path: Path) -> Path:
    figure, axis = plt.subplots(figsize=(9, 5))
    for index, record in enumerate(records):
        steps, values = _curve(record, GAP)
        axis.plot(steps, values, color=plt.cm.tab20(index % 20), linewidth=1.2,
                  label=record.trial_id)
    _mark_ends(axis, records, GAP, choice)
    rule = spec.stopping.gap
    if rule is not None and rule.enabled and rule.threshold > 0 and not rule.relative:
        axis.axhline(rule.threshold, color="tab:red", linestyle="--",
                     label=f"gap rule threshold {rule.threshold}")
    if rule is not None and rule.enabled and rule.grace_steps:
        axis.axvline(rule.grace_steps, color="grey", linestyle=":", label="gap rule grace")
    axis.axhline(0, color="black", linewidth=0.5)
    axis.set_xlabel("optimizer step")
    axis.set_ylabel("gap = val_loss - train_loss")
    axis.set_title(f"{spec.name}: validation gap ({len(records)} trials)")
    axis.grid(alpha=0.3)
    _legend_for_ends(axis)
    return _save(figure, path)


def plot_objective_vs_params(records, choice: Choice, spec, path: Path) -> Path | None:
    searched = {n: p for n, p in spec.space.items() if not isinstance(p, ConstantParam)}
    scored = [(r, c) for r in records if (c := choice.best_of(r.trial_id)) is not None]
    if not searched or not scored:
        return None
    figure, axes = plt.subplots(1, len(searched), figsize=(4 * len(searched), 4), sharey=True,
                                squeeze=False)
    for axis, (name, param) in zip(axes[0], searched.items()):
        for status, colour in STATUS_COLOURS.items():
            group = [(r, c) for r, c in scored if r.outcome.status == status and name in r.params]
            if not group:
                continue
            values = [r.params[name] for r, _ in group]
            if isinstance(param, ChoiceParam) and not all(isinstance(v, (int, float))
                                                          for v in param.values):
                values = [param.values.index(v) for v in values]
                axis.set_xticks(range(len(param.values)), [str(v) for v in param.values])
            axis.scatter(values, [c.objective for _, c in group], color=colour, label=status,
                         s=45)
        if isinstance(param, (FloatParam, IntParam)) and param.log:
            axis.set_xscale("log")
        axis.set_xlabel(name)
        axis.grid(alpha=0.3)
    axes[0][0].set_ylabel(f"{spec.objective.metric} at each trial's best-ranked step")
    axes[0][0].legend(fontsize=8)
    figure.suptitle(f"{spec.name}: objective against each hyperparameter ({len(scored)} "
                    "trials with a candidate checkpoint, pruned ones too)")
    return _save(figure, path)


def write_plots(run: RunDir, records: list[TrialRecord], choice: Choice | None = None
                ) -> list[Path]:
    """Write every plot that the run's data allows; returns the files written."""
    spec = run.spec
    choice = choice or choice_of(run, records)
    study, metric = run.study(), spec.objective.metric
    written = [
        plot_learning_curves(records, choice, spec.name, run.plot_file(LEARNING_CURVES_PLOT)),
        plot_gap(records, choice, spec, run.plot_file(GAP_PLOT)),
        plot_objective_vs_params(records, choice, spec, run.plot_file(OBJECTIVE_VS_PARAMS_PLOT)),
        plot_importances(study, spec.name, metric, spec.search.seed,
                         run.plot_file(PARAM_IMPORTANCES_PLOT)),
        plot_history(study, spec.name, metric, run.plot_file(HISTORY_PLOT)),
        plot_parallel(study, spec.name, metric, run.plot_file(PARALLEL_PLOT)),
        plot_check(list(read_check(run).values()), choice, metric, spec.name,
                   run.plot_file(CHECK_PLOT)),
    ]
    return [path for path in written if path is not None]
