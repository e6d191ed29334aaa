"""``basin ls``: the run directories in a folder (a sweep's ``output_dir``), newest first: name,
start, trials ended of those requested, the best objective (of the checkpoint the sweep hands
on) and whether the sweep finished."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from rich.console import Console

from search.core.errors import SpecError
from search.core.layout import SWEEP_FILE
from search.core.outcome import FINISHED
from search.report.fitting import Column, print_fitted
from search.report.status import sweep_state
from search.store.reading import read_run
from search.store.rundir import RunDir

STAMP = re.compile(r"-(\d{8}-\d{6})$")  # RunDir.create names a run <sweep>-<YYYYmmdd-HHMMSS>


def run_directories(folder: Path) -> list[Path]:
    """The basin run directories directly in ``folder``, newest first."""
    if not folder.is_dir():
        raise SpecError([f"{folder}: no such folder"])
    found = [path for path in folder.iterdir() if (path / SWEEP_FILE).is_file()]
    return sorted(found, key=_started, reverse=True)


def _started(path: Path) -> datetime:
    """When the sweep started: the stamp basin put in its folder's name, else its sweep.yaml's
    time (a folder copied elsewhere keeps its name, not its times)."""
    stamp = STAMP.search(path.name)
    if stamp:
        return datetime.strptime(stamp.group(1), "%Y%m%d-%H%M%S")
    return datetime.fromtimestamp((path / SWEEP_FILE).stat().st_mtime)


def _row(path: Path) -> list[str]:
    started = _started(path)
    try:
        reading = read_run(path)
        run, spec = reading.run, reading.run.spec
        records, choice = reading.records, reading.choice()
    except (SpecError, OSError, ValueError):  # a damaged run directory: still listed
        return [path.name, started.strftime("%Y-%m-%d %H:%M"), "-", "-",
                "unreadable (basin status says why)"]
    ended = sum(r.outcome.status in FINISHED for r in records)
    best = (f"{spec.objective.metric} {choice.chosen.objective:.4f} ({choice.chosen.trial_id})"
            if choice.chosen else "-")
    return [path.name, started.strftime("%Y-%m-%d %H:%M"), f"{ended}/{spec.search.num_trials}",
            best,
            _state(run)]


def _state(run: RunDir) -> str:
    """Finished, running (a live driver holds its lock), interrupted (basin resume continues
    it), or not running here (an object-store run driven, if at all, elsewhere)."""
    state, _ = sweep_state(run)
    return "interrupted (basin resume)" if state == "interrupted" else state


def print_runs(folder: Path, console: Console) -> int:
    """Print one row per run directory in ``folder``; returns how many there are."""
    paths = run_directories(folder)
    if not paths:
        console.print(f"{folder}: no run directories (a sweep's output_dir holds them)")
        return 0
    # The run directory's name is what a user copies: never cut; the state may wrap.
    columns = [Column("run directory", "left"), Column("started", "left", wrap=True),
               Column("trials"), Column("best", "left", wrap=True),
               Column("state", "left", wrap=True)]
    print_fitted(console, columns, [_row(path) for path in paths])
    return len(paths)
