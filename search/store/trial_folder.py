"""One trial's folder in a run directory, read: Ray's reports and basin's error line, and the
candidate checkpoints the trial kept (``trainables/trial/candidate_store.py``)."""

from __future__ import annotations

import json
from pathlib import Path

from search.core.layout import RAY_RESULTS_FILE, TRIAL_FOLDER
from trainables.contract import CANDIDATES_FOLDER, ERROR_FILE, STEP, TRIAL_METRICS_FILE


def trial_folders_in(path: Path) -> dict[str, Path]:
    """The trial folders in a local run directory, by trial id."""
    folders = {}
    for folder in sorted(path.iterdir()):
        match = TRIAL_FOLDER.match(folder.name)
        if match and folder.is_dir():
            folders[match.group(1) or match.group(2)] = folder
    return folders


def history(folder: Path) -> list[dict]:
    """Every report of one trial, oldest first (Ray appends them to result.json)."""
    path = folder / RAY_RESULTS_FILE
    if not path.is_file():
        return []
    rows: dict = {}
    for line in path.read_text().splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            break  # a line cut short by a crash
        step = row.get(STEP, len(rows))
        # A trial trained again from step 0 (its checkpoint was gone: search/tune/
        # lost_checkpoints.py) reports earlier steps anew: those replace the first run's.
        if rows and isinstance(step, int) and step < max(rows):
            rows = {kept: earlier for kept, earlier in rows.items() if kept < step}
        # A trial resumed from its final checkpoint repeats its last report: keep the first.
        rows.setdefault(step, row)
    return list(rows.values())


def error(folder: Path) -> str | None:
    """The last line of the trial's error file (what it raised), or None."""
    path = folder / ERROR_FILE
    if not path.is_file():
        return None
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    return lines[-1] if lines else "the trial raised an error"


def candidate_folders(folder: Path) -> dict[int, Path]:
    """Every candidate checkpoint of a trial, by its step. They sit in the trial folder's
    ``candidates`` folder, one per evaluation, each with its step's metrics file (a candidate
    cut short by a crash has none, or a broken one, and is left out)."""
    found: dict[int, Path] = {}
    for metrics in sorted((folder / CANDIDATES_FOLDER).glob(f"*/{TRIAL_METRICS_FILE}")):
        try:
            found[int(json.loads(metrics.read_text())[STEP])] = metrics.parent
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            continue
    return found
