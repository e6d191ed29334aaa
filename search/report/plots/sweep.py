"""PNG plots of a sweep, written into its run directory (matplotlib, no display needed).

- ``learning_curves.png``: validation loss and train-subset loss against step, every trial; a
  trial a rule or ASHA stopped ends in the marker of what stopped it, in the trial's colour, and
  the chosen checkpoint is a star.
- ``gap.png``: the gap against step (with the gap rule's threshold when it has one).
- ``objective_vs_params.png``: each trial's best-ranked candidate against each hyperparameter.
- ``front.png``: every candidate's objective against its drift from the base model, the front
  of the two and the choice (``front.py``).
- ``check.png``: once ``basin check`` ran, objective against basin radius (``check.py``).
- ``param_importances.png`` (Optuna's own plot), ``optimization_history.png`` and
  ``parallel_coordinates.png`` (drawn here with basin's trial ids) from the study
  (``study.py``).

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
from matplotlib.markers import MarkerStyle  # noqa: E402

from search.core.layout import (
    CHECK_PLOT,
    FRONT_PLOT,
    GAP_PLOT,
    HISTORY_PLOT,
    LEARNING_CURVES_PLOT,
    OBJECTIVE_VS_PARAMS_PLOT,
    PARALLEL_PLOT,
    PARAM_IMPORTANCES_PLOT,
)
from search.core.outcome import ASHA, COMPLETED, FAILED, PRUNED, RUNNING, STOPPED  # noqa: E402
from search.core.record import TrialRecord  # noqa: E402
from search.report.plots.axes import readable_log_x  # noqa: E402
from search.report.plots.check import plot_check  # noqa: E402
from search.report.plots.front import plot_front  # noqa: E402
from search.report.plots.palette import end_labels, trial_styles  # noqa: E402
from search.report.plots.study import plot_history, plot_importances, plot_parallel  # noqa: E402
from search.sampling.space import ChoiceParam, ConstantParam, FloatParam, IntParam  # noqa: E402
from search.selection.choice import Choice
from search.stopping import rule_types  # noqa: E402
from search.store.reading import RunReading  # noqa: E402
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
    """Each stopped trial's last point with the marker of what stopped it, in the trial's own
    colour (a trial stopped at its first evaluation is that marker alone), and the chosen
    checkpoint as a star."""
    styles = trial_styles([record.trial_id for record in records])
    for record in records:
        marker = KIND_MARKERS.get(record.outcome.kind)
        steps, values = _curve(record, metric)
        if marker and steps:
            filled = MarkerStyle(marker).is_filled()  # an outline for "v", none for "x"
            axis.scatter(steps[-1], values[-1], marker=marker, s=70, zorder=5,
                         color=styles[record.trial_id][0], linewidths=0.8 if filled else 2,
                         edgecolors="black" if filled else None)
        chosen = choice.chosen
        if chosen and chosen.trial_id == record.trial_id and chosen.step in steps:
            axis.scatter(chosen.step, values[steps.index(chosen.step)], marker="*", s=260,
                         zorder=6, color="gold", edgecolors="black")


def _legend_for_ends(axis, records: list[TrialRecord], choice: Choice) -> None:
    """Beside the panel, not over the curves: the markers of the ends that occur, and the
    chosen checkpoint's star when there is one."""
    for label, marker in end_labels(records, KIND_MARKERS).items():
        axis.scatter([], [], marker=marker, color="grey", label=label)
    if choice.chosen is not None:
        axis.scatter([], [], marker="*", s=160, color="gold", edgecolors="black",
                     label="chosen")
    if axis.get_legend_handles_labels()[1]:
        axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
                    borderaxespad=0)


def _save(figure, path: Path, extra: tuple = ()) -> Path:
    figure.tight_layout()
    # The tight box holds what matplotlib counts by default (an axis's legend, the suptitle)
    # only when no artists are named; ``extra``: legends added as artists, named with them.
    artists = [*figure.get_default_bbox_extra_artists(), *extra]
    figure.savefig(path, dpi=110, bbox_inches="tight", bbox_extra_artists=artists)
    plt.close(figure)
    return path


def _draw_curves(axis, records: list[TrialRecord], metric: str, chosen_id: str | None) -> None:
    styles = trial_styles([record.trial_id for record in records])
    for record in records:
        steps, values = _curve(record, metric)
        if not steps:
            continue  # nothing drawn, nothing in the legend
        colour, style = styles[record.trial_id]
        chosen = record.trial_id == chosen_id
        axis.plot(steps, values, color=colour, linestyle=style, linewidth=3 if chosen else 1.3,
                  marker="o" if len(steps) == 1 else None, markersize=4,
                  label=f"{record.trial_id}{' (chosen)' if chosen else ''}")


def plot_learning_curves(records, choice: Choice, title: str, path: Path) -> Path:
    figure, axes = plt.subplots(1, 2, figsize=(14, 5), sharey=True)
    chosen_id = choice.chosen.trial_id if choice.chosen else None
    for axis, metric, name in ((axes[0], VAL_LOSS, "validation loss"),
                               (axes[1], TRAIN_EVAL_LOSS, "train-subset loss (eval mode)")):
        _draw_curves(axis, records, metric, chosen_id)
        _mark_ends(axis, records, metric, choice)
        axis.set_title(name)
        axis.set_xlabel("optimizer step")
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("loss")
    # The trials' legend and the ends' legend both beside the panels, outside the data.
    trials = axes[1].legend(*axes[0].get_legend_handles_labels(), loc="upper left",
                            bbox_to_anchor=(1.01, 1.0), fontsize=7, title="trial",
                            ncol=1 if len(records) <= 20 else 2, borderaxespad=0)
    axes[1].add_artist(trials)
    ends = [axes[1].scatter([], [], marker=m, color="grey", label=label)
            for label, m in end_labels(records, KIND_MARKERS).items()]
    if choice.chosen is not None:
        ends.append(axes[1].scatter([], [], marker="*", s=160, color="gold",
                                    edgecolors="black", label="chosen"))
    if ends:
        axes[1].legend(handles=ends, loc="lower left", bbox_to_anchor=(1.01, 0.0), fontsize=8,
                       borderaxespad=0)
    heading = figure.suptitle(f"{title}: learning curves ({len(records)} trials)")
    return _save(figure, path, extra=(trials, heading))


def plot_gap(records, choice: Choice, spec, path: Path) -> Path:
    figure, axis = plt.subplots(figsize=(10, 5))
    _draw_curves(axis, records, GAP, choice.chosen.trial_id if choice.chosen else None)
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
    _legend_for_ends(axis, records, choice)
    return _save(figure, path)


def plot_objective_vs_params(records, choice: Choice, spec, path: Path) -> Path | None:
    """A panel per searched hyperparameter (three to a row): each trial's best-ranked
    candidate, coloured by how the trial ended, the chosen checkpoint starred."""
    searched = {n: p for n, p in spec.space.items() if not isinstance(p, ConstantParam)}
    scored = [(r, c) for r in records if (c := choice.best_of(r.trial_id)) is not None]
    if not searched or not scored:
        return None
    columns = min(3, len(searched))
    rows = -(-len(searched) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.6 * columns, 3.8 * rows),
                                sharey=True, squeeze=False)
    for axis, (name, param) in zip(axes.flat, searched.items()):
        _objective_panel(axis, name, param, scored, choice)
    for axis in list(axes.flat)[len(searched):]:
        axis.set_visible(False)
    for row in axes:
        row[0].set_ylabel(f"{spec.objective.metric}\n(best-ranked step)")
    handles = [plt.scatter([], [], color=colour, s=45, label=status)
               for status, colour in STATUS_COLOURS.items()
               if any(r.outcome.status == status for r, _ in scored)]
    if choice.chosen is not None:
        handles.append(plt.scatter([], [], marker="*", s=200, color="gold",
                                   edgecolors="black", label="chosen"))
    legend = figure.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 0.95),
                           fontsize=8, title="trial ended")
    figure.suptitle(f"{spec.name}: objective against each hyperparameter ({len(scored)} "
                    "trials with a candidate checkpoint, pruned ones too)")
    return _save(figure, path, extra=(legend,))


def _objective_panel(axis, name: str, param, scored: list, choice: Choice) -> None:
    position = _position_of(param)
    for status, colour in STATUS_COLOURS.items():
        group = [(r, c) for r, c in scored if r.outcome.status == status and name in r.params]
        if group:
            axis.scatter([position(r.params[name]) for r, _ in group],
                         [c.objective for _, c in group], color=colour, s=45)
    chosen = choice.chosen
    if chosen is not None and name in chosen.params:
        axis.scatter(position(chosen.params[name]), chosen.objective, marker="*", s=260,
                     color="gold", edgecolors="black", zorder=5)
    if isinstance(param, ChoiceParam) and not all(isinstance(v, (int, float))
                                                  for v in param.values):
        axis.set_xticks(range(len(param.values)), [str(v) for v in param.values])
    if isinstance(param, (FloatParam, IntParam)) and param.log:
        axis.set_xscale("log")
        readable_log_x(axis)
    axis.set_xlabel(name)
    axis.grid(alpha=0.3)


def _position_of(param):
    """Where a value goes on the x axis: itself, or a non-numeric choice's index."""
    if isinstance(param, ChoiceParam) and not all(isinstance(v, (int, float))
                                                  for v in param.values):
        return param.values.index
    return lambda value: value


def write_plots(reading: RunReading) -> list[Path]:
    """Write every plot that the run's data allows (its choice the reading's); returns the
    files written."""
    run, records, choice = reading.run, reading.records, reading.choice()
    spec = run.spec
    study, metric = run.study(), spec.objective.metric
    written = [
        plot_learning_curves(records, choice, spec.name, run.plot_file(LEARNING_CURVES_PLOT)),
        plot_gap(records, choice, spec, run.plot_file(GAP_PLOT)),
        plot_objective_vs_params(records, choice, spec, run.plot_file(OBJECTIVE_VS_PARAMS_PLOT)),
        plot_importances(study, spec.name, metric, spec.search.seed,
                         run.plot_file(PARAM_IMPORTANCES_PLOT)),
        plot_history(study, spec.name, metric, run.plot_file(HISTORY_PLOT),
                     spec.objective.mode, choice.chosen.trial_id if choice.chosen else None),
        plot_parallel(study, spec.name, metric, run.plot_file(PARALLEL_PLOT),
                      spec.objective.mode, tuple(n for n, p in spec.space.items()
                                                 if getattr(p, "log", False)),
                      choice.chosen.trial_id if choice.chosen else None),
        plot_check(list(reading.checks.values()), choice, metric, spec.name,
                   run.plot_file(CHECK_PLOT)),
        plot_front(choice, metric, spec.name, run.plot_file(FRONT_PLOT)),
    ]
    return [path for path in written if path is not None]
