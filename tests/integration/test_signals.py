"""What a cluster does to a driver: SIGTERM (SLURM and Kubernetes preemption, `ray job stop`)
stops the sweep as Ctrl-C does and `basin resume` finishes it with nothing lost and at most the
evaluation in flight repeated; a second driver on a run directory that a live one owns is
refused in one line, and a killed driver's lock is not held."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from search.cli.main import main
from search.core.layout import DRIVER_LOCK
from search.core.outcome import ORPHANED
from search.store import trial_folder
from search.store.driver_lock import DriverLock
from search.store.study import KIND_ATTR, RAY_TRIAL_ATTR
from tests.integration.drivers import kill_when, start_driver, the_run, wait_for

pytestmark = pytest.mark.integration

TRIALS, MAX_STEPS = 4, 24


def _holds_lock(run_path, pid: int) -> bool:
    lock = run_path / DRIVER_LOCK
    try:
        return json.loads(lock.read_text())["pid"] == pid
    except (OSError, ValueError, KeyError):
        return False


def test_sigterm_stops_cleanly_a_second_driver_is_refused_and_resume_finishes(
        sweep_factory, tmp_path, capsys) -> None:
    # Random sampling: a resumed searcher must not draw a configuration twice either way.
    sweep = sweep_factory(training={"max_steps": MAX_STEPS, "eval_every": 4,
                                    "micro_batch_size": 8},
                          search={"num_trials": TRIALS, "max_concurrent_trials": 2, "seed": 0,
                                  "sampler": "random"})
    driver = start_driver(["run", str(sweep), "--quiet"], tmp_path / "run.log")
    wait_for(lambda: (run := the_run(tmp_path)) is not None and any(
        len(t.intermediate_values) >= 2 for t in run.optuna_trials().values()))
    driver.send_signal(signal.SIGTERM)
    assert driver.wait(timeout=120) == 130
    said = (tmp_path / "run.log").read_text()
    run = the_run(tmp_path)
    assert f"basin resume {run.path}" in said and "Traceback" not in said, said
    assert not run.finished

    resumer = start_driver(["resume", str(run.path), "--quiet"], tmp_path / "resume.log")
    try:
        wait_for(lambda: _holds_lock(run.path, resumer.pid) or resumer.poll() is not None)
        capsys.readouterr()
        assert main(["resume", str(run.path), "--quiet"]) == 2
        refused = capsys.readouterr().err.strip().splitlines()
        assert len(refused) == 1 and "a live driver is running this sweep" in refused[0] \
            and f"process {resumer.pid}" in refused[0], refused
        assert resumer.wait(timeout=600) == 0, (tmp_path / "resume.log").read_text()
    finally:
        if resumer.poll() is None:
            resumer.kill()

    results = json.loads(run.results_file.read_text())
    ids = [t["trial_id"] for t in results["trials"]]
    assert len(ids) == len(set(ids)) == TRIALS
    assert all(t["outcome"]["status"] == "completed" for t in results["trials"])
    configurations = {tuple(sorted(t["params"].items())) for t in results["trials"]}
    assert len(configurations) == TRIALS  # none drawn twice
    told = [t.user_attrs[RAY_TRIAL_ATTR] for t in run.study().trials
            if RAY_TRIAL_ATTR in t.user_attrs and t.user_attrs.get(KIND_ATTR) != ORPHANED]
    assert sorted(told) == sorted(ids)  # each trial once in the study
    # Nothing lost, and at most the evaluation in flight repeated: Ray's last snapshot at the
    # SIGTERM may name the checkpoint before the trial's last report (as after SIGKILL; seen in
    # CI), so that evaluation is trained and reported once more, never more.
    every = list(range(4, MAX_STEPS + 1, 4))
    for trial_id, folder in run.trial_folders().items():
        steps = [json.loads(line)["step"]
                 for line in (folder / "result.json").read_text().splitlines()]
        assert sorted(set(steps)) == every and steps == sorted(steps), (trial_id, steps)
        assert len(steps) - len(set(steps)) <= 1, (trial_id, steps)
        assert [r["step"] for r in trial_folder.history(folder)] == every


def test_a_second_signal_stops_at_once_and_says_how_to_continue(sweep_factory, tmp_path
                                                                 ) -> None:
    sweep = sweep_factory(training={"max_steps": 400, "eval_every": 4, "micro_batch_size": 8},
                          search={"num_trials": 2, "max_concurrent_trials": 2})
    driver = start_driver(["run", str(sweep), "--quiet"], tmp_path / "run.log")
    wait_for(lambda: (run := the_run(tmp_path)) is not None and any(
        t.intermediate_values for t in run.optuna_trials().values()))
    driver.send_signal(signal.SIGTERM)
    driver.send_signal(signal.SIGINT)  # before the first has stopped the sweep
    started = time.monotonic()
    assert driver.wait(timeout=120) == 130
    # Trials of 400 steps were far from done: the sweep did not wait for them.
    assert time.monotonic() - started < 60
    said = (tmp_path / "run.log").read_text()
    run = the_run(tmp_path)
    # (The forced stop's line; had the first signal's clean stop won the race, its own.)
    assert f"continue it with: basin resume {run.path}" in said.lower(), said
    assert "Traceback" not in said and not run.finished


def test_a_killed_drivers_lock_is_not_held(sweep_factory, tmp_path) -> None:
    sweep = sweep_factory(training={"max_steps": 200, "eval_every": 4, "micro_batch_size": 8},
                          search={"num_trials": 1})
    driver = start_driver(["run", str(sweep), "--quiet"], tmp_path / "run.log")
    kill_when(driver, lambda: (run := the_run(tmp_path)) is not None
              and _holds_lock(run.path, driver.pid))
    run = the_run(tmp_path)
    # The lock file stays, naming the dead driver; the kernel let go of the lock itself.
    assert _holds_lock(run.path, driver.pid)
    with DriverLock(run.path, str(run.path)) as lock:
        lock.acquire("resume")
        assert _holds_lock(run.path, os.getpid())


def test_ctrl_c_after_the_trials_is_not_swallowed(sweep_factory) -> None:
    # Ray Tune's SIGINT handler only sets its fit's event; left in place after the fit, it took
    # the first Ctrl-C (or SIGTERM) during what comes next (basin check re-trains there).
    before = signal.getsignal(signal.SIGINT)
    sweep = sweep_factory(training={"max_steps": 4, "eval_every": 4, "micro_batch_size": 8},
                          search={"num_trials": 1, "seed": 0, "sampler": "random"})
    assert main(["run", str(sweep), "--quiet"]) == 0
    assert signal.getsignal(signal.SIGINT) is before
