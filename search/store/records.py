"""One record per trial, read back from a run directory while its sweep runs or after it ended:
how the trial ended (its ``Outcome``), its hyperparameters, every evaluation it reported and
the checkpoints it still has.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optuna.trial import FrozenTrial

from search.core.outcome import ERROR, FAILED, LOST, UNFINISHED, Outcome
from search.store.rundir import RunDir
from search.tune.optuna_search import ORPHANED, told_outcome
from trainables.contract import OBJECTIVE_METRICS, OUTCOME, finite

# What a record keeps of each report: enough to choose a checkpoint and to explain the choice.
EVALUATION_FIELDS: tuple[str, ...] = tuple(dict.fromkeys((
    "step", "val_loss", "val_loss_se", "val_accuracy", "val_distinct_predictions",
    "train_eval_loss", "gap", "baseline_loss", *OBJECTIVE_METRICS)))


@dataclass
class TrialRecord:
    """What a user needs to know about one trial."""

    trial_id: str
    outcome: Outcome
    params: dict[str, Any]
    evaluations: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    checkpoints: dict[int, str] = field(default_factory=dict)  # step -> folder or URI
    optuna_number: int | None = None

    @property
    def last_step(self) -> int | None:
        return self.evaluations[-1]["step"] if self.evaluations else None

    def best_evaluation(self, metric: str, mode: str) -> dict[str, Any] | None:
        """The evaluation with the best finite ``metric`` (the earliest of equals)."""
        scored = [row for row in self.evaluations if finite(row.get(metric)) is not None]
        if not scored:
            return None
        sign = 1 if mode == "min" else -1
        return min(scored, key=lambda row: (sign * row[metric], row["step"]))

    def as_dict(self) -> dict[str, Any]:
        """The record as plain data for results.json (checkpoint steps as strings: JSON keys)."""
        return {"trial_id": self.trial_id, "outcome": self.outcome.as_dict(),
                "params": self.params, "evaluations": self.evaluations,
                "checkpoints": {str(step): where for step, where in self.checkpoints.items()},
                "optuna_number": self.optuna_number}


def _evaluations(reports: list[dict], told: FrozenTrial | None, metric: str) -> list[dict]:
    """The trial's evaluations from Ray's reports, or, before Ray has written any to disk (it
    writes in batches), the objective values Optuna holds already."""
    rows = [{name: row.get(name) for name in EVALUATION_FIELDS if name in row}
            for row in reports if OUTCOME not in row and "step" in row]
    if rows or told is None:
        return rows
    return [{"step": step, metric: value}
            for step, value in sorted(told.intermediate_values.items())]


def _outcome(told: FrozenTrial | None, error: str | None) -> Outcome:
    outcome = told_outcome(told) if told is not None else None
    if outcome is None:  # not told yet: still running, or the driver died before telling
        if error:
            return Outcome(FAILED, ERROR, error, excluded=True)
        return UNFINISHED
    if outcome.kind == LOST and error:  # Ray's traceback of the death says more
        return Outcome(FAILED, outcome.kind, error, outcome.step, excluded=True)
    return outcome


def _params(folder: Path | None) -> dict[str, Any]:
    """The hyperparameters Ray wrote into the trial's folder; {} when there are none yet, or
    when a driver killed while Ray wrote them left the file empty or cut short."""
    path = folder / "params.json" if folder else None
    if path is None or not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        return {}


def record_of(trial_id: str, reports: list[dict], told: FrozenTrial | None,
              params: dict[str, Any], checkpoints: dict[int, str], metric: str,
              error: str | None = None) -> TrialRecord:
    """One trial from what it reported (oldest first), Optuna's record of it and the
    checkpoints it kept; ``error``: the last line of its error file, if it has one."""
    return TrialRecord(
        trial_id=trial_id, outcome=_outcome(told, error),
        params=params or (dict(told.params) if told else {}),
        evaluations=_evaluations(reports, told, metric), checkpoints=checkpoints,
        optuna_number=told.number if told else None)


def _record(run: RunDir, trial_id: str, folder: Path | None, told: FrozenTrial | None,
            metric: str) -> TrialRecord:
    """One trial from its folder (Ray's reports and checkpoints) and Optuna's record of it."""
    if folder is None:
        return record_of(trial_id, [], told, {}, {}, metric)
    return record_of(trial_id, RunDir.history(folder), told, _params(folder),
                     run.checkpoints(folder), metric, RunDir.error(folder))


def collect_records(run: RunDir) -> list[TrialRecord]:
    """Every trial of a run directory, started or only suggested, finished or not, by id."""
    told = run.optuna_trials()
    folders = run.trial_folders()
    metric = run.spec.objective.metric
    # An orphan (asked for by a driver that died before Ray recorded it) never trained; its
    # configuration was queued again under a new trial.
    orphans = {i for i, t in told.items() if (o := told_outcome(t)) and o.status == ORPHANED}
    return [_record(run, trial_id, folders.get(trial_id), told.get(trial_id), metric)
            for trial_id in sorted((set(told) | set(folders)) - orphans)]
