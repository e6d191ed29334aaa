"""The same command gives the same sweep (one trial at a time), and ``basin train best.yaml``
trains the chosen recipe again in this process, without Ray, landing on the checkpoint the
sweep chose: the same validation loss at the same step, which it says; an edited recipe gets a
warning with both figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from search.cli.main import main

pytestmark = pytest.mark.integration


def run_once(sweep: Path, output_dir: Path) -> Path:
    assert main(["run", str(sweep), "--quiet", "--set", f"output_dir={output_dir}"]) == 0
    (run,) = output_dir.glob("*")
    return run


def the_sweep(run: Path) -> tuple[list, tuple]:
    """Every trial's configuration and evaluations (leaderboard order), and the choice's
    configuration, step and figure (trial ids and paths differ from run to run)."""
    results = json.loads((run / "results.json").read_text())
    chosen = results["choice"]["chosen"]
    return ([(trial["params"], [(row["step"], row["val_loss"]) for row in trial["evaluations"]])
             for trial in results["trials"]],
            (chosen["params"], chosen["step"], chosen["val_loss"]))


def test_one_at_a_time_the_same_sweep_and_basin_train_reproduces_its_choice(
        sweep_factory, tmp_path: Path, capsys) -> None:
    # TPE (two start-up trials, then proposals from what it was told) and ASHA decide.
    sweep = sweep_factory(search={"num_trials": 4, "max_concurrent_trials": 1, "seed": 0},
                          scheduler={"type": "asha", "grace_period": 4, "reduction_factor": 2},
                          tracking={"wandb": {"mode": "disabled"}})
    first, second = run_once(sweep, tmp_path / "first"), run_once(sweep, tmp_path / "second")
    trials, _ = the_sweep(first)
    assert the_sweep(second) == the_sweep(first)
    assert len({json.dumps(params, sort_keys=True) for params, _ in trials}) == 4
    chosen = json.loads((first / "results.json").read_text())["choice"]["chosen"]

    capsys.readouterr()
    out = tmp_path / "trained"
    assert main(["train", str(first / "best.yaml"), "--out", str(out)]) == 0
    said = capsys.readouterr().out
    steps = {int(json.loads(f.read_text())["step"]): json.loads(f.read_text())
             for f in out.glob("candidates/*/trial_metrics.json")}
    assert max(steps) == chosen["step"]  # the recipe stops at the chosen step
    assert steps[chosen["step"]]["val_loss"] == chosen["val_loss"]  # bit for bit on a CPU
    assert (f"reproduced val_loss {chosen['val_loss']:.6f} at step {chosen['step']} (the sweep "
            f"recorded {chosen['val_loss']:.6f}; difference +0.0e+00)") in said

    # The recipe edited: the figure moves, and basin train says by how much and why.
    assert main(["train", str(first / "best.yaml"), "--out", str(tmp_path / "edited"),
                 "--set", f"space.learning_rate={chosen['params']['learning_rate'] * 3}"]) == 0
    said = capsys.readouterr().out
    assert "warning: not reproduced: val_loss" in said
    assert "the recipe differs from the sweep's (hash" in said
