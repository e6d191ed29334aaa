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
from search.report.results import choice_of, describe_choice, ordered
from search.store.driver_lock import live_driver
from search.store.records import collect_records
from search.store.rundir import RunDir


def last_written(run: RunDir) -> float:
    """When the sweep last wrote anything it keeps (its study, a trial's report): where an
    interrupted sweep stopped."""
    files = [run.sweep_file, run.path / "optuna.journal",
             *(folder / "result.json" for folder in run.trial_folders().values())]
    return max(f.stat().st_mtime for f in files if f.is_file())


def sweep_state(run: RunDir) -> tuple[str, float]:
    """Whether the sweep is finished, running (a live driver holds its lock) or interrupted,
    in words, and its seconds from start to end, to now, or to the interruption."""
    started = run.sweep_file.stat().st_mtime
    if run.finished:
        return "finished", run.results_file.stat().st_mtime - started
    driver = live_driver(run.path)
    if driver is not None:
        return f"running ({driver})", time.time() - started
    if run.remote:  # its lock is on the machine that drives it: one elsewhere is not seen
        return "not running here (a driver on another machine is not seen)", \
            last_written(run) - started
    return "interrupted", last_written(run) - started


def print_status(run: RunDir, console: Console) -> list[TrialRecord]:
    """Print the sweep's progress, the checkpoint it would hand on now, and one line per
    trial; returns the records."""
    spec = run.spec
    records = collect_records(run)
    choice = choice_of(run, records)
    statuses = Counter(r.outcome.status for r in records)
    finished = sum(statuses[s] for s in FINISHED)
    frozen = sum(r.frozen_at is not None for r in records)
    left = max(0, spec.search.num_trials - len(records))
    state, elapsed = sweep_state(run)
    live = state.startswith("running")
    say(console, f"sweep [bold]{spec.name}[/bold] in {run.shown}: {state}, "
                 f"{max(0.0, elapsed) / 60:.1f} min "
                 + ("elapsed" if live else "in all" if run.finished else "before it stopped"))
    if not run.finished and not live:
        say_command(console, "continue it with:", f"basin resume {run.location}")
    by_status = ", ".join(f"{statuses[s]} {s}" for s in FINISHED)
    say(console, f"trials: {spec.search.num_trials} requested, {finished} finished "
                 f"({by_status}), {statuses[RUNNING] - frozen} "
                 + ("running, " if live or run.finished else "unfinished, ")
                 + (f"{frozen} frozen, " if frozen else "") + f"{left} not started")
    say(console, describe_choice(choice, run).replace("chosen:", "best so far:", 1))
    if run.journal_damage:
        console.print(f"[yellow]{run.journal_damage.describe()}[/yellow]")

    # Like the leaderboard: ids and numbers never wrap; the hyperparameters may, at spaces.
    columns = [Column("trial", "left"), Column("status", "left", wrap=True), Column("step"),
               Column("best at"), Column(spec.objective.metric),
               Column("hyperparameters", "left", wrap=True)]
    rows = []
    for record in ordered(records, choice):
        best = choice.best_of(record.trial_id)
        step = f"{record.last_step or 0}/{spec.training.max_steps or '?'}"
        shown = record.state
        if shown == RUNNING and not live:  # no driver: it waits for basin resume
            shown = "unfinished"
        rows.append([record.trial_id, shown, step, str(best.step) if best else "-",
                     f"{best.objective:.4f}" if best else "-",
                     format_params(short_names(record.params))])
    print_fitted(console, columns, rows)
    return records
