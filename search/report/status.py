"""``basin status``: where a sweep stands, while it runs or after it ended."""

from __future__ import annotations

import time
from collections import Counter

from rich.console import Console
from rich.table import Table

from search.core.outcome import FINISHED, RUNNING
from search.core.record import TrialRecord
from search.report.leaderboard import format_params, short_names
from search.report.results import choice_of, describe_choice, ordered
from search.store.records import collect_records
from search.store.rundir import RunDir


def _elapsed(run: RunDir) -> float:
    """Seconds from the sweep's start (its sweep.yaml) to its end, or to now if unfinished."""
    started = run.sweep_file.stat().st_mtime
    ended = run.results_file.stat().st_mtime if run.finished else time.time()
    return max(0.0, ended - started)


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
    state = "finished" if run.finished else "running (or interrupted)"
    console.print(f"sweep [bold]{spec.name}[/bold] in {run.shown}: {state}, "
                  f"{_elapsed(run) / 60:.1f} min elapsed")
    by_status = ", ".join(f"{statuses[s]} {s}" for s in FINISHED)
    console.print(f"trials: {spec.search.num_trials} requested, {finished} finished "
                  f"({by_status}), {statuses[RUNNING] - frozen} running, "
                  + (f"{frozen} frozen, " if frozen else "") + f"{left} not started")
    console.print(describe_choice(choice, run).replace("chosen:", "best so far:", 1))
    if run.journal_damage:
        console.print(f"[yellow]{run.journal_damage.describe()}[/yellow]")

    # Like the leaderboard: no box, ids and numbers never wrap; the hyperparameters may.
    table = Table(box=None, padding=(0, 1), collapse_padding=True, pad_edge=False,
                  header_style="bold underline")
    for column in ("trial", "status", "step", "best at", spec.objective.metric):
        table.add_column(column, no_wrap=True)
    table.add_column("hyperparameters", overflow="fold")
    for record in ordered(records, choice):
        best = choice.best_of(record.trial_id)
        step = f"{record.last_step or 0}/{spec.training.max_steps or '?'}"
        table.add_row(record.trial_id, record.state, step,
                      str(best.step) if best else "-",
                      f"{best.objective:.4f}" if best else "-",
                      format_params(short_names(record.params)))
    console.print(table)
    return records
