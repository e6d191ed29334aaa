"""A run directory read once: its trials' records, what ``basin confirm`` and ``basin check``
wrote beside them, and the choice made from all three. Every reader of a run (status, ls, best,
plots, export, confirm, check, the sweep's finish, the Python API) starts here, so that a
command reads the trials once and chooses once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from search.core.record import TrialRecord
from search.selection.base import Criterion
from search.selection.candidates import Candidate
from search.selection.choice import Choice, choose
from search.store.records import collect_records, orphans_of
from search.store.result_files import read_check_report, read_confirmed, seed_spreads
from search.store.rundir import RunDir
from trainables.contract import STEP


class RunReading:
    """One reading of a run directory. ``records`` (and ``orphans``: the trials a driver asked
    for and died before Ray recorded them, left out of the records) are read on creation;
    confirm.json and check.json when the choice first needs them. A command that writes one of
    those files (``basin confirm``, ``basin check``) calls ``results_written`` and the next
    choice reads it, without reading the trials again."""

    def __init__(self, run: RunDir, records: list[TrialRecord] | None = None) -> None:
        self.run = run
        told = run.optuna_trials() if records is None else {}
        self.orphans: list[str] = orphans_of(told)
        self.records = collect_records(run, told) if records is None else records
        self._confirmed: list[dict] | None = None
        self._check_report: dict[str, Any] | None = None
        self._check_read = False
        self._checked: dict[tuple[str, int], dict[str, Any]] | None = None
        self._choice: Choice | None = None

    @property
    def confirmed(self) -> list[dict]:
        """``basin confirm``'s ranking, best first ([] before it ran)."""
        if self._confirmed is None:
            self._confirmed = read_confirmed(self.run.confirm_file)
        return self._confirmed

    @property
    def spreads(self) -> dict[tuple[str, int], float]:
        """``basin confirm``'s spread of the objective over new seeds, by (trial, step)."""
        return seed_spreads(self.confirmed)

    @property
    def check_report(self) -> dict[str, Any] | None:
        """check.json as ``basin check`` wrote it, or None before it ran."""
        if not self._check_read:
            self._check_report, self._check_read = read_check_report(self.run), True
        return self._check_report

    @property
    def checks(self) -> dict[tuple[str, int], dict[str, Any]]:
        """check.json's entries by (trial, step); empty before ``basin check`` ran."""
        entries = self.check_report["candidates"] if self.check_report else []
        return {(entry["trial_id"], entry[STEP]): entry for entry in entries}

    @property
    def checked(self) -> dict[tuple[str, int], dict[str, Any]]:
        """``basin check``'s figures by (trial, step), with ``basin confirm``'s spread over
        seeds (also for candidates that were confirmed but not checked)."""
        if self._checked is None:
            figures = dict(self.checks)
            for key, spread in self.spreads.items():
                figures[key] = {**figures.get(key, {}), "seed_sd": spread}
            self._checked = figures
        return self._checked

    def choice(self, criterion: Criterion | None = None,
               keep: Callable[[Candidate], bool] | None = None) -> Choice:
        """The run's choice: its candidates ranked by the sweep's criterion (or
        ``criterion``), only those ``keep`` accepts, and ``basin confirm``'s winner once there
        is one. The sweep's own choice is made once per reading."""
        if criterion is None and keep is None and self._choice is not None:
            return self._choice
        spec = self.run.spec
        made = choose(self.records, criterion or spec.selection, spec.objective.metric,
                      spec.objective.mode, self.confirmed, keep, self.checked)
        if criterion is None and keep is None:
            self._choice = made
        return made

    def results_written(self) -> None:
        """confirm.json or check.json changed: the next choice reads them again."""
        self._confirmed = self._checked = self._choice = None
        self._check_read = False

    def record(self, trial_id: str) -> TrialRecord | None:
        """The trial's record, or None when the run has no such trial."""
        return next((r for r in self.records if r.trial_id == trial_id), None)


def read_run(where: RunDir | str | Path) -> RunReading:
    """A run directory (open, or a path or object-store address) read once."""
    return RunReading(where if isinstance(where, RunDir) else RunDir.open(where))
