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


def read_check(run: RunDir) -> dict[tuple[str, int], dict[str, Any]]:
    """check.json's figures by (trial id, step); empty when no check ran."""
    if not run.check_file.is_file():
        return {}
    entries = json.loads(run.check_file.read_text())["candidates"]
    return {(entry["trial_id"], entry[STEP]): entry for entry in entries}


def seed_spreads(run: RunDir) -> dict[tuple[str, int], float]:
    """``basin confirm``'s spread (sd) of the objective over new seeds, by (trial, step)."""
    return {(entry["trial_id"], entry[STEP]): entry["spread"]
            for entry in read_confirmed(run.confirm_file) if len(entry["objectives"]) > 1}
