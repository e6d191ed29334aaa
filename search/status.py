"""``basin status``: where a sweep stands, while it runs or after it ended."""

from __future__ import annotations

import time
from collections import Counter

from rich.console import Console
from rich.table import Table

from search.progress import format_params
from search.results import TrialRecord, best_record, collect_records, rank
from search.rundir import RESULTS_FILE, SWEEP_FILE, RunDir


def _elapsed(run: RunDir) -> float:
    """Seconds from the sweep's start (its sweep.yaml) to its end, or to now if unfinished."""
    started = (run.path / SWEEP_FILE).stat().st_mtime
    ended = (run.path / RESULTS_FILE).stat().st_mtime if run.finished else time.time()
    return max(0.0, ended - started)


def print_status(run: RunDir, console: Console) -> list[TrialRecord]:
    """Print the sweep's progress and one line per trial; returns the records."""
    spec = run.spec
    records = collect_records(run)
    counts = Counter(r.status for r in records)
    finished = sum(counts[s] for s in ("completed", "pruned", "failed"))
    left = max(0, spec.search.num_trials - len(records))
    state = "finished" if run.finished else "running (or interrupted)"
    console.print(f"sweep [bold]{spec.name}[/bold] in {run.shown}: {state}, "
                  f"{_elapsed(run) / 60:.1f} min elapsed")
    console.print(f"trials: {spec.search.num_trials} requested, {finished} finished "
                  f"({counts['completed']} completed, {counts['pruned']} pruned, "
                  f"{counts['failed']} failed), {counts['running']} running, {left} not started")
    best = best_record(records, spec.objective.mode)
    if best is not None:
        console.print(f"best so far: trial {best.trial_id}, {spec.objective.metric} "
                      f"{best.best_objective:.4f} at step {best.best_step}")
    else:
        console.print("best so far: no trial has completed yet")

    table = Table()
    for column in ("trial", "status", "step", f"best {spec.objective.metric}", "hyperparameters"):
        table.add_column(column, overflow="fold")
    for record in rank(records, spec.objective.mode):
        best_value = "-" if record.best_objective is None else f"{record.best_objective:.4f}"
        step = f"{record.last_step or 0}/{spec.training.max_steps or '?'}"
        table.add_row(record.trial_id, record.status_text, step, best_value,
                      format_params(record.params))
    console.print(table)
    return records
