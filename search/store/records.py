"""One record per trial, read back from a run directory while its sweep runs or after it ended:
how the trial ended (its ``Outcome``), its hyperparameters, every evaluation it reported and
the checkpoints it still has.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from optuna.trial import FrozenTrial

from search.core.layout import RAY_PARAMS_FILE
from search.core.outcome import ERROR, FAILED, LOST, ORPHANED, UNFINISHED, Outcome
from search.core.record import EVALUATION_FIELDS, TrialRecord
from search.store import trial_folder
from search.store.freeze_ledger import FreezeLedger
from search.store.rundir import RunDir
from search.store.study import told_outcome
from trainables.contract import OUTCOME, STEP


def _evaluations(reports: list[dict], told: FrozenTrial | None, metric: str) -> list[dict]:
    """The trial's evaluations from Ray's reports, or, before Ray has written any to disk (it
    writes in batches), the objective values Optuna holds already."""
    kept = dict.fromkeys((*EVALUATION_FIELDS, metric))  # a task's own objective too
    rows = [{name: row.get(name) for name in kept if name in row}
            for row in reports if OUTCOME not in row and STEP in row]
    if rows or told is None:
        return rows
    return [{STEP: step, metric: value}
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
    path = folder / RAY_PARAMS_FILE if folder else None
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
    return record_of(trial_id, trial_folder.history(folder), told, _params(folder),
                     run.checkpoints(folder), metric, trial_folder.error(folder))


def orphans_of(told: dict[str, FrozenTrial]) -> list[str]:
    """The trials a driver asked for and died before Ray recorded them, by Ray trial id: not
    part of the sweep (their configurations were queued again under new trials), though one
    may have started, and its tracker's run with it, in the driver's last moment."""
    return sorted(i for i, t in told.items() if (o := told_outcome(t)) and o.kind == ORPHANED)


def collect_records(run: RunDir, told: dict[str, FrozenTrial] | None = None
                    ) -> list[TrialRecord]:
    """Every trial of a run directory, started or only suggested, finished or not, by id;
    ``told``: Optuna's record of them (``run.optuna_trials()``), where the caller has read it."""
    told = run.optuna_trials() if told is None else told
    folders = run.trial_folders()
    metric = run.spec.objective.metric
    records = [_record(run, trial_id, folders.get(trial_id), told.get(trial_id), metric)
               for trial_id in sorted((set(told) | set(folders)) - set(orphans_of(told)))]
    if run.freezes_file.is_file():  # a freezing scheduler ran: each trial's pauses and thaws
        freezes = FreezeLedger(run.freezes_file)
        for record in records:
            record.freezes = [{"event": e.event, "step": e.step, "reason": e.reason}
                              for e in freezes.history(record.trial_id)]
    return records


def tell_faults(run: RunDir, records: list[TrialRecord]) -> None:
    """Tell Optuna FAIL (``lost``) for each trial Ray ended on a fault of the machine that no
    ``basin resume`` continued: the searcher leaves them untold so that a resume can
    (``search/tune/optuna_search.py``), and a sweep that ends with them tells them here, once.
    Each told record's outcome becomes what a new reading of the run would say."""
    import optuna

    from search.sampling.telling import lost
    from search.store.study import open_storage, record_outcome

    told = run.optuna_trials()
    faulted = [r for r in records if r.outcome.status == FAILED and r.trial_id in told
               and told[r.trial_id].state == optuna.trial.TrialState.RUNNING]
    if not faulted:
        return
    study = optuna.load_study(study_name=run.study().study_name,
                              storage=open_storage(run.path, run.spec.search.storage))
    for record in faulted:
        trial = optuna.trial.Trial(study, told[record.trial_id]._trial_id)
        ending = lost(record.outcome.reason)
        record_outcome(trial, ending.outcome)
        study.tell(trial, state=ending.state)
        record.outcome = ending.outcome  # read back: lost, with the same reason
