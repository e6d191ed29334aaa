"""The benchmark scripts in their smoke mode (tiny model, a few trials): they run end to end,
write their figures, and the facts the benchmarks rest on hold.

These check that the scripts work, never how fast anything is: speed is the benchmarks' job.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import ray

# Each script runs a real (tiny) sweep, on the session's local Ray.
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("local_ray")]

PROJECT = Path(__file__).resolve().parents[2]


def run_smoke(script: str, work_dir: Path, *extra: str, own_ray: bool = False) -> dict:
    """Run ``benchmarks/SCRIPT --smoke`` (and ``extra`` arguments) and return the JSON figures
    it wrote. The script joins the test session's Ray (``RAY_ADDRESS``), as a second driver on
    a cluster would, instead of starting one of its own each time (10-20 s apiece), unless it
    needs its ``own_ray`` (its trial processes as its children)."""
    env = dict(os.environ)
    if not own_ray:
        env["RAY_ADDRESS"] = ray.get_runtime_context().gcs_address
    done = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{script.removesuffix('.py')}", "--smoke", "--work-dir",
         str(work_dir), *extra], cwd=PROJECT, env=env, capture_output=True, text=True,
        timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = work_dir / script.replace(".py", ".json")
    assert results.is_file(), f"{script} wrote no figures"
    assert "|---" in done.stdout, "no table printed"
    return json.loads(results.read_text())


def test_search_efficiency_smoke(tmp_path: Path) -> None:
    runs = {r["method"]: r for r in run_smoke("search_efficiency.py", tmp_path)["runs"]}
    assert set(runs) == {"random", "ray", "hf", "basin"}
    for method, run in runs.items():
        assert run["trials"] == 3, method
        assert run["cpu_s"] > 0 and run["wall_s"] > 0, method
        # Every method names a configuration, and what it hands on is scored on the test split.
        assert set(run["chosen"]) >= {"learning_rate", "lora_r"}, method
        assert math.isfinite(run["chosen_test_loss"]), method
        assert 0 <= run["chosen_test_accuracy"] <= 1, method
    # basin's run is chosen from by every criterion compared; each choice is a scored checkpoint.
    basin = runs["basin"]
    assert set(basin["choices"]) == {"sweep", "objective", "one-se", "max-gap 0.25",
                                     "completed only"}
    for name, choice in basin["choices"].items():
        if choice is None:  # "completed only" when no trial trained its whole budget
            assert name == "completed only" and not basin["stopped"].get("budget")
            continue
        assert choice["checkpoint"] and math.isfinite(choice["test_loss"]), name
    assert basin["choices"]["sweep"]["params"] == basin["chosen"]
    # The reference trains every trial to the end: 3 trials x 8 steps.
    assert runs["random"]["steps"] == 24 and not runs["random"]["stopped"]
    for method in ("ray", "hf", "basin"):
        assert 0 < runs[method]["steps"] <= 24, method
    # basin tells Optuna every trial's outcome; Ray's OptunaSearch reports them all COMPLETE.
    told = basin["optuna_states"]
    assert sum(told.values()) == 3 and set(told) <= {"COMPLETE", "PRUNED", "FAIL"}
    assert runs["ray"]["optuna_states"] == {"COMPLETE": 3}


def test_search_efficiency_runs_the_freezing_scheduler_on_request(tmp_path: Path) -> None:
    """Issue 30's method: basin with the freezing scheduler, its step budget half of random
    search's (3 trials x 8 steps: 12 steps for thaws), scored like basin's own run."""
    (run,) = run_smoke("search_efficiency.py", tmp_path, "--methods", "basin-freeze")["runs"]
    assert run["method"] == "basin-freeze" and run["trials"] == 3
    assert math.isfinite(run["chosen_test_loss"])
    assert 0 < run["steps"] <= 24 and sum(run["optuna_states"].values()) == 3


def test_overhead_smoke(tmp_path: Path) -> None:
    walls = run_smoke("overhead.py", tmp_path)["walls"]
    assert set(walls) == {"raw Ray Tune", "raw Ray Tune (reuse_actors)", "basin (W&B disabled)",
                          "basin (W&B offline)"}
    # 8 trials sleeping 0.2 s, 2 at a time, cannot take less than 0.8 s.
    assert all(len(values) == 1 and values[0] >= 0.8 for values in walls.values())


def test_throughput_smoke(tmp_path: Path) -> None:
    runs = run_smoke("throughput.py", tmp_path)["runs"]
    assert set(runs) == {"plain PyTorch", "basin (DeepSpeed ZeRO-0)"}
    for name, values in runs.items():
        assert values[0]["samples_per_s"] > 0 and values[0]["tokens_per_s"] > 0, name


@pytest.fixture(scope="module")
def basin_check_smoke(local_ray, tmp_path_factory) -> Path:
    """``basin_check.py --smoke``'s work folder: its sweep is the one check_cost.py's smoke
    rechecks, run once for both."""
    work = tmp_path_factory.mktemp("basin-check")
    run_smoke("basin_check.py", work)
    return work


def test_basin_check_smoke(basin_check_smoke: Path) -> None:
    (run,) = json.loads((basin_check_smoke / "basin_check.json").read_text())["runs"]
    # The share is a figure, not a bound: a smoke sweep's trials take seconds, and on a busy
    # machine its check may take longer than they did (the benchmark itself measures it).
    assert run["exit_code"] == 0 and run["check_s"] > 0 and run["check_share"] > 0
    # Every criterion hands on a checkpoint, scored on the test split; so is every checked one.
    assert set(run["choices"]) == {"objective", "one-se", "robust"}
    for choice in [*run["choices"].values(), *run["checked"]]:
        assert math.isfinite(choice["test_loss"]) and 0 <= choice["test_accuracy"] <= 1
    # The top 2 candidates, or all there are (a trial that predicts one class after 20 steps
    # has none: how many is up to the seed).
    assert len(run["checked"]) == min(2, run["candidates"]) >= 1
    for candidate in run["checked"]:
        assert candidate["basin_radius"] >= 0 and candidate["drift"] >= 0


def test_check_cost_smoke(basin_check_smoke: Path, tmp_path: Path) -> None:
    figures = run_smoke("check_cost.py", tmp_path, "--smoke-run",
                        str(basin_check_smoke / "basin_check.json"))
    (sweep,) = figures["sweeps"]
    assert sweep["exit_code"] == 0 and sweep["check_share"] > 0  # a figure, not a bound
    # The same candidates checked again in a fresh process: the same figures.
    (again,) = figures["recheck"]
    assert again["exit_code"] == 0 and again["same_candidates"]
    assert again["same_radius"]
    assert again["max_absolute_loss_change"] < 1e-6


def test_search_replay_smoke(tmp_path: Path) -> None:
    """A tiny table built with basin's trial loop, then every method replayed over it."""
    from benchmarks.curve_table import read_table
    from benchmarks.replay.methods import METHODS

    rows = run_smoke("search_replay.py", tmp_path)["rows"]
    table = read_table(tmp_path / "smoke-table.json")
    assert len(table["configs"]) == 4
    for entry in table["configs"]:
        assert entry["outcome"] == "completed" and len(entry["evaluations"]) == 2
        for row in entry["evaluations"]:
            # Every evaluation: the losses a search sees, the test figures it must not, costs.
            assert {"val_loss", "val_loss_se", "train_eval_loss", "test_loss", "test_accuracy",
                    "seconds_per_step", "eval_seconds"} <= set(row)
            assert row["seconds_per_step"] > 0
    assert {r["method"] for r in rows} == set(METHODS)
    assert {r["seed"] for r in rows} == {0, 1}
    for row in rows:
        assert row["regret"] is not None and math.isfinite(row["regret"]), row
        assert 0 < row["steps_share"] <= 1 and len(row["anytime"]) == 10, row
    random_search = [r for r in rows if r["method"] == "random"]
    assert all(r["steps_share"] == 1 and not r["stopped"] for r in random_search)


def test_retention_check_smoke(tmp_path: Path) -> None:
    """The retention validation on a tiny model: every candidate scored on the held-out suite
    with its drift and the other signals, both choices scored on the test split, the cost."""
    (run,) = run_smoke("retention_check.py", tmp_path)["runs"]
    assert run["exit_code"] == 0 and 0 <= run["reference"] <= 1
    assert len(run["candidates"]) == 4  # 2 trials x 2 evaluations, every one kept
    for candidate in run["candidates"]:
        assert candidate["kl"] >= 0 and math.isfinite(candidate["answer_loss"])
        assert candidate["update_norm"] > 0 and 0 <= candidate["held_out"] <= 1
    assert set(run["choices"]) == {"objective", "retentive"}
    for choice in run["choices"].values():
        assert math.isfinite(choice["test_loss"]) and 0 <= choice["test_exact_match"] <= 1
    assert 0 < run["cost"]["share_of_trials"] < 1 and run["cost"]["drift_s"] > 0


def test_worker_memory_smoke(tmp_path: Path) -> None:
    # Its sampler reads the memory of the driver's child processes: a Ray of its own.
    (sweep,) = run_smoke("worker_memory.py", tmp_path, own_ray=True)["sweeps"]
    # One slot: one warm worker process ran every trial, and every trial has its memory.
    assert len(sweep["workers"]) == 1
    trials = sweep["trials"]
    assert len(trials) == 3 and [t["warm"] for t in trials] == [False, True, True]
    assert all(t["rss_at_end_mib"] and t["rss_at_end_mib"] > 100 for t in trials)
    assert sweep["growth_last_vs_first"] is not None
