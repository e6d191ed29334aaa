"""Reading back what the driver's commands wrote beside the trials: ``basin confirm``'s ranking
(confirm.json) and ``basin check``'s figures (check.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from search.store.rundir import RunDir
from trainables.contract import STEP


def read_confirmed(path: Path) -> list[dict]:
    """``basin confirm``'s ranking (best first), or [] when it has not run."""
    if not path.is_file():
        return []
    return [entry for entry in json.loads(path.read_text()) if entry.get("objectives")]


def read_check_report(run: RunDir) -> dict[str, Any] | None:
    """check.json as ``basin check`` wrote it (its settings, seconds and one entry per
    candidate), or None when no check ran."""
    if not run.check_file.is_file():
        return None
    return json.loads(run.check_file.read_text())


def seed_spreads(confirmed: list[dict]) -> dict[tuple[str, int], float]:
    """``basin confirm``'s spread (sd) of the objective over new seeds, by (trial, step), from
    its ranking (``read_confirmed``); a candidate confirmed with one seed has none."""
    return {(entry["trial_id"], entry[STEP]): entry["spread"]
            for entry in confirmed if len(entry["objectives"]) > 1}
