"""``basin train best.yaml`` trains the chosen recipe again in this process, without Ray, and
lands on the checkpoint the sweep chose: the same validation loss at the same step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from search.cli.main import main

pytestmark = pytest.mark.integration


def test_basin_train_reproduces_the_chosen_checkpoint(sweep_factory, tmp_path: Path) -> None:
    sweep = sweep_factory(search={"num_trials": 2, "max_concurrent_trials": 2, "seed": 0},
                          tracking={"wandb": {"mode": "disabled"}})
    assert main(["run", str(sweep), "--quiet"]) == 0
    (run,) = (tmp_path / "runs").glob("*")
    chosen = json.loads((run / "results.json").read_text())["choice"]["chosen"]
    out = tmp_path / "trained"
    assert main(["train", str(run / "best.yaml"), "--out", str(out)]) == 0
    steps = {int(json.loads(f.read_text())["step"]): json.loads(f.read_text())
             for f in out.glob("candidates/*/trial_metrics.json")}
    assert max(steps) == chosen["step"]  # the recipe stops at the chosen step
    assert abs(steps[chosen["step"]]["val_loss"] - chosen["val_loss"]) < 1e-4
