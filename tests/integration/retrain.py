"""The twin a trial's figures are compared with: the same configuration trained by ``basin
train`` in this process, uninterrupted (no warm worker, no pause, no restart)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from search.cli.main import main

# Those a task reports of them: a classifier's accuracy, the drift where retention is on.
COMPARED = ("step", "train_loss", "train_eval_loss", "val_loss", "val_loss_se", "val_accuracy",
            "val_perplexity", "drift")


def retrained(sweep: Path, params: dict[str, Any], out: Path) -> dict[int, dict]:
    """Each evaluation's figures (``COMPARED``) of ``params`` trained once more, by step."""
    command = ["train", str(sweep), "--out", str(out)]
    for name, value in params.items():
        command += ["--set", f"space.{name}={value!r}"]
    assert main(command) == 0
    rows = (json.loads(file.read_text()) for file in out.glob("candidates/*/trial_metrics.json"))
    return {row["step"]: figures(row) for row in rows}


def figures(row: dict) -> dict:
    """The figures of one report that must not depend on how the trial was run."""
    return {name: row[name] for name in COMPARED if name in row}
