"""A sweep's end: its trials read back, the choice made, and what it hands on written:
results.json, best.yaml, the plots, the trackers' summaries, the uploads. An interrupted sweep
writes nothing (``basin resume`` continues it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from search.core.errors import SpecError
from search.core.outcome import FINISHED
from search.core.record import TrialRecord
from search.report.results import leaderboard_rows, write_results
from search.selection.choice import Choice
from search.selection.noise import closeness
from search.store.keep_final_pass import Kept, keep_what_counts
from search.store.object_store import LocationError
from search.store.reading import RunReading
from search.store.records import tell_faults
from search.store.rundir import RunDir
from search.trackers.base import SweepSummary, Tracker

if TYPE_CHECKING:
    from search.lifecycle.check import CheckReport


@dataclass
class Finished:
    """What ``finish_sweep`` found: every trial, the choice, and what was written."""

    records: list[TrialRecord]
    choice: Choice
    ended: int
    requested: int
    plots: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    check: CheckReport | None = None
    kept: Kept | None = None

    @property
    def interrupted(self) -> bool:
        return self.ended < self.requested


def sync(run_dir: RunDir, download: bool = False) -> None:
    """Upload what the driver wrote to an object-store run directory and, with ``download``,
    then refresh its mirror with what Ray uploaded (both no-ops for a path)."""
    try:
        run_dir.push()  # first: a file pushed here is not downloaded back
        if download:
            run_dir.pull()
    except LocationError as error:
        raise SpecError([f"{run_dir.shown}: {error}"]) from error


def finish_sweep(run_dir: RunDir, trackers: list[Tracker],
                 progress: Callable[[str], None] = lambda line: None) -> Finished:
    """After the trials: read them back and choose; a sweep whose trials all ended runs
    ``basin check`` when its file asks for it (``progress`` hears of each candidate), writes
    results.json, best.yaml and the plots, tells its trackers and uploads; an interrupted
    one writes nothing (``basin resume`` continues it)."""
    from search.lifecycle.check import run_check, track_check
    from search.report.plots.sweep import write_plots

    spec = run_dir.spec
    sync(run_dir, download=True)  # an object-store run: the trials' folders, as Ray left them
    reading = RunReading(run_dir)  # read once: the steps below keep the records true
    records = reading.records
    ended = sum(r.outcome.status in FINISHED for r in records)
    if ended < spec.search.num_trials:  # interrupted: nothing deleted, nothing told
        return Finished(records, reading.choice(), ended, spec.search.num_trials)
    tell_faults(run_dir, records)
    kept = keep_what_counts(run_dir, records)  # the records keep the candidates left
    check = None
    if spec.check is not None:
        check = run_check(reading, spec.check, progress)  # robust needs its figures
    choice = reading.choice()  # chosen once, with every figure the sweep's end measured
    done = Finished(records, choice, ended, spec.search.num_trials, check=check, kept=kept)
    if check is not None:
        track_check(check, records, trackers)
    write_results(reading)
    done.plots = write_plots(reading)
    columns, rows = leaderboard_rows(records, choice, spec)
    noise = closeness(choice, spec.objective.metric)
    summary = SweepSummary(columns, rows, choice.chosen.as_dict() if choice.chosen else None,
                           choice.why, done.plots, noise.as_dict() if noise else None,
                           reading.orphans)
    for tracker in trackers:
        tracker.sweep_ended(summary)
        if note := tracker.closing_note():
            done.notes.append(note)
    sync(run_dir)
    return done
