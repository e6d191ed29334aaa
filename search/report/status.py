"""``basin status``: where a sweep stands, while it runs or after it ended."""

from __future__ import annotations

import time
from collections import Counter

from rich.console import Console

from search.core.console import say, say_command
from search.core.outcome import FINISHED, RUNNING
from search.core.record import TrialRecord
from search.report.fitting import Column, print_fitted
from search.report.leaderboard import format_params, short_names
from search.report.results import describe_choice, ordered, trial_state
from search.store.driver_lock import live_driver
from search.store.reading import RunReading
from search.store.rundir import RunDir


def last_written(run: RunDir) -> float:
    """When the sweep last wrote anything it keeps (its study, a trial's report): where an
    interrupted sweep stopped."""
    files = [run.sweep_file, run.path / "optuna.journal",
             *(folder / "result.json" for folder in run.trial_folders().values())]
    return max(f.stat().st_mtime for f in files if f.is_file())


def sweep_state(run: RunDir) -> tuple[str, str | None]:
    """``finished``, ``running`` (a live driver holds its lock; its description comes second),
    ``interrupted``, or, for an object-store run, ``not running here`` (its lock is on the
    machine that drives it: a driver elsewhere is not seen)."""
    if run.finished:
        return "finished", None
    driver = live_driver(run.path)
    if driver is not None:
        return "running", driver
    return ("not running here" if run.remote else "interrupted"), None


def in_flight(state: str) -> str:
    """How a trial that has not ended is said in a sweep of this state: running while a driver
    runs it, unfinished when it waits for basin resume."""
    return "running" if state in ("running", "finished") else "unfinished"


def _seconds(run: RunDir, state: str) -> float:
    """From the sweep's start to its end, to now while it runs, or to where it stopped."""
    started = run.sweep_file.stat().st_mtime
    if state == "finished":
        return run.results_file.stat().st_mtime - started
    return (time.time() if state == "running" else last_written(run)) - started


def print_status(run: RunDir, console: Console) -> list[TrialRecord]:
    """Print the sweep's progress, the checkpoint it would hand on now, and one line per
    trial; returns the records."""
    spec = run.spec
    reading = RunReading(run)
    records, choice = reading.records, reading.choice()
    statuses = Counter(r.outcome.status for r in records)
    finished = sum(statuses[s] for s in FINISHED)
    frozen = sum(r.frozen_at is not None for r in records)
    left = max(0, spec.search.num_trials - len(records))
    state, driver = sweep_state(run)
    said = {"running": f"running ({driver})", "not running here": "not running here (a driver "
            "on another machine is not seen)"}.get(state, state)
    say(console, f"sweep [bold]{spec.name}[/bold] in {run.shown}: {said}, "
                 f"{max(0.0, _seconds(run, state)) / 60:.1f} min "
                 + {"running": "elapsed", "finished": "in all"}.get(state, "before it stopped"))
    if in_flight(state) == "unfinished":
        say_command(console, "continue it with:", f"basin resume {run.location}")
    by_status = ", ".join(f"{statuses[s]} {s}" for s in FINISHED)
    say(console, f"trials: {spec.search.num_trials} requested, {finished} finished "
                 f"({by_status}), {statuses[RUNNING] - frozen} {in_flight(state)}, "
                 + (f"{frozen} frozen, " if frozen else "") + f"{left} not started")
    say(console, describe_choice(choice, run).replace("chosen:", "best so far:", 1))
    if run.journal_damage:
        say(console, f"[yellow]{run.journal_damage.describe()}[/yellow]")

    # Like the leaderboard: ids and numbers never wrap; the hyperparameters may, at spaces.
    columns = [Column("trial", "left"), Column("status", "left", wrap=True), Column("step"),
               Column("best at"), Column(spec.objective.metric),
               Column("hyperparameters", "left", wrap=True)]
    rows = []
    for record in ordered(records, choice):
        best = choice.best_of(record.trial_id)
        step = f"{record.last_step or 0}/{spec.training.max_steps or '?'}"
        rows.append([record.trial_id, trial_state(record, in_flight(state)), step,
                     str(best.step) if best else "-",
                     f"{best.objective:.4f}" if best else "-",
                     format_params(short_names(record.params))])
    print_fitted(console, columns, rows)
    return records
