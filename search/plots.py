"""PNG plots of a sweep, written into its run directory (matplotlib, no display needed).

- ``learning_curves.png``: validation loss and train-subset loss against step, every trial;
  a pruned trial's curve ends in a marker (x: stopped by the gap rule, v: stopped by ASHA).
- ``gap.png``: the gap against step, with the gap rule's threshold and grace period.
- ``objective_vs_params.png``: each trial's best objective against each searched hyperparameter.
- ``param_importances.png``: Optuna's hyperparameter importances (completed trials only).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on clusters and CI

import matplotlib.pyplot as plt  # noqa: E402
import optuna  # noqa: E402

from search.results import TrialRecord, best_record  # noqa: E402
from search.rundir import RunDir  # noqa: E402
from search.space import ChoiceParam, ConstantParam, FloatParam, IntParam  # noqa: E402

STATUS_COLOURS = {"completed": "tab:green", "pruned: gap": "tab:red",
                  "pruned: asha": "tab:orange", "failed": "black", "running": "tab:blue"}
STOP_MARKERS = {"pruned: gap": "x", "pruned: asha": "v"}


def _curve(history: list[dict], metric: str) -> tuple[list[int], list[float]]:
    rows = [row for row in history if row.get(metric) is not None]
    return [row["step"] for row in rows], [row[metric] for row in rows]


def _mark_stops(axis, records, histories, metric) -> None:
    """Draw each pruned trial's last point with the marker of what stopped it."""
    for record in records:
        marker = STOP_MARKERS.get(record.status_label)
        steps, values = _curve(histories[record.trial_id], metric)
        if marker and steps:
            axis.scatter(steps[-1], values[-1], marker=marker, s=70, zorder=5,
                         color=STATUS_COLOURS[record.status_label])


def _legend_for_stops(axis) -> None:
    for label, marker in STOP_MARKERS.items():
        axis.scatter([], [], marker=marker, color=STATUS_COLOURS[label], label=f"{label} (stop)")
    axis.legend(loc="best", fontsize=8)


def plot_learning_curves(records, histories, best_id, title, path: Path) -> Path:
    figure, axes = plt.subplots(1, 2, figsize=(13, 5), sharey=True)
    for axis, metric, name in ((axes[0], "val_loss", "validation loss"),
                               (axes[1], "train_eval_loss", "train-subset loss (eval mode)")):
        for index, record in enumerate(records):
            steps, values = _curve(histories[record.trial_id], metric)
            best = record.trial_id == best_id
            axis.plot(steps, values, color=plt.cm.tab20(index % 20), linewidth=3 if best else 1.2,
                      label=f"{record.trial_id}{' (best)' if best else ''}")
        _mark_stops(axis, records, histories, metric)
        axis.set_title(name)
        axis.set_xlabel("optimizer step")
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("loss")
    axes[0].legend(loc="best", fontsize=7, ncol=2)
    _legend_for_stops(axes[1])
    figure.suptitle(f"{title}: learning curves")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_gap(records, histories, spec, path: Path) -> Path:
    figure, axis = plt.subplots(figsize=(9, 5))
    for index, record in enumerate(records):
        steps, values = _curve(histories[record.trial_id], "gap")
        axis.plot(steps, values, color=plt.cm.tab20(index % 20), linewidth=1.2,
                  label=record.trial_id)
    _mark_stops(axis, records, histories, "gap")
    gap = spec.gap_pruning
    if gap.enabled and not gap.relative:
        axis.axhline(gap.threshold, color="tab:red", linestyle="--",
                     label=f"gap threshold {gap.threshold} (patience {gap.patience})")
    if gap.enabled and gap.grace_steps:
        axis.axvline(gap.grace_steps, color="grey", linestyle=":", label="grace steps")
    axis.axhline(0, color="black", linewidth=0.5)
    axis.set_xlabel("optimizer step")
    axis.set_ylabel("gap = val_loss - train_loss")
    axis.set_title(f"{spec.name}: validation gap"
                   + (f" (threshold {gap.threshold:.0%} of val_loss)" if gap.relative else ""))
    axis.grid(alpha=0.3)
    _legend_for_stops(axis)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_objective_vs_params(records, spec, path: Path) -> Path | None:
    searched = {n: p for n, p in spec.space.items() if not isinstance(p, ConstantParam)}
    scored = [r for r in records if r.best_objective is not None]
    if not searched or not scored:
        return None
    figure, axes = plt.subplots(1, len(searched), figsize=(4 * len(searched), 4), sharey=True,
                                squeeze=False)
    for axis, (name, param) in zip(axes[0], searched.items()):
        for label, colour in STATUS_COLOURS.items():
            group = [r for r in scored if r.status_label == label and name in r.params]
            if not group:
                continue
            values = [r.params[name] for r in group]
            if isinstance(param, ChoiceParam) and not all(isinstance(v, (int, float))
                                                          for v in param.values):
                values = [param.values.index(v) for v in values]
                axis.set_xticks(range(len(param.values)), [str(v) for v in param.values])
            axis.scatter(values, [r.best_objective for r in group], color=colour, label=label,
                         marker=STOP_MARKERS.get(label, "o"), s=45)
        if isinstance(param, (FloatParam, IntParam)) and param.log:
            axis.set_xscale("log")
        axis.set_xlabel(name)
        axis.grid(alpha=0.3)
    axes[0][0].set_ylabel(f"best {spec.objective.metric} ({spec.objective.mode})")
    axes[0][0].legend(fontsize=8)
    figure.suptitle(f"{spec.name}: objective against each hyperparameter")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_importances(study: optuna.Study, spec, path: Path) -> Path | None:
    """Optuna's importances; None when too few trials completed to estimate them."""
    try:
        importances = optuna.importance.get_param_importances(study)
    except (RuntimeError, ValueError):
        return None
    if not importances:
        return None
    figure, axis = plt.subplots(figsize=(7, max(3.0, 0.6 * len(importances) + 1.5)))
    names = list(importances)[::-1]
    axis.barh(names, [importances[n] for n in names], color="tab:blue")
    axis.set_xlabel("importance (fANOVA, completed trials)")
    axis.set_title(f"{spec.name}: hyperparameter importances")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def write_plots(run: RunDir, records: list[TrialRecord]) -> list[Path]:
    """Write every plot that the run's data allows; returns the files written."""
    spec = run.spec
    folders = run.trial_folders()
    histories = {r.trial_id: RunDir.history(folders[r.trial_id]) if r.trial_id in folders else []
                 for r in records}
    best = best_record(records, spec.objective.mode)
    written = [
        plot_learning_curves(records, histories, best.trial_id if best else None, spec.name,
                             run.path / "learning_curves.png"),
        plot_gap(records, histories, spec, run.path / "gap.png"),
        plot_objective_vs_params(records, spec, run.path / "objective_vs_params.png"),
        plot_importances(run.study(), spec, run.path / "param_importances.png"),
    ]
    return [path for path in written if path is not None]
