"""A basin driver run as a user runs it, in a process of its own, to be killed, interrupted
and resumed by the integration tests (test_resilience, test_freezing, test_signals)."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import ray

from search.store.rundir import RunDir


def start_driver(argv: list[str], log: Path) -> subprocess.Popen:
    """`basin ...` in a real subprocess, on this test session's Ray cluster."""
    env = {**os.environ, "RAY_ADDRESS": ray.get_runtime_context().gcs_address}
    return subprocess.Popen([sys.executable, "-m", "search.cli.main", *argv], env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)


def resume_in_own_process(run: RunDir, log: Path) -> None:
    """`basin resume RUN --quiet` as a user runs it after a crash, in a process of its own, and
    assert that it finished the sweep. A process of its own: a resume inside pytest's process
    shares its signal handlers (Ray Tune's SIGINT handler stays installed after a fit), and in
    CI one such resume ended after 10 s as if interrupted (exit 130) where nothing could be seen
    of why; here what it printed and its driver.log say it."""
    resumer = start_driver(["resume", str(run.path), "--quiet"], log)
    code = resumer.wait(timeout=600)
    driver_log = run.path / "driver.log"
    assert code == 0, (f"basin resume exited {code}:\n{log.read_text()[-4000:]}\n"
                       f"driver.log:\n"
                       f"{driver_log.read_text()[-4000:] if driver_log.is_file() else '(none)'}")


def ask_after_the_snapshot(run: RunDir) -> str:
    """Leave Ray's saved state as a copy caught between two snapshots does: the searcher and
    the search generator's count of the newer one, which asked Optuna for one more trial,
    beside the experiment state of the older, which lacks it. Returns the new trial's Ray id."""
    import ray.cloudpickle as cloudpickle

    searcher_file = max(run.path.glob("searcher-state-*.pkl"))
    searcher = pickle.loads(searcher_file.read_bytes())  # reopens the sweep's study
    slots, searcher._slots = searcher._slots, None  # asked for as its slot freed up
    ray_id = "asked-late"
    searcher.suggest(ray_id)
    searcher._slots = slots
    searcher.save(str(searcher_file))
    generator_file = max(run.path.glob("search_gen_state-*.json"))
    state = cloudpickle.loads(generator_file.read_bytes())
    state["counter"] += 1
    generator_file.write_bytes(cloudpickle.dumps(state))
    return ray_id


def wait_for(condition, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.5)


def kill_when(driver: subprocess.Popen, condition) -> None:
    """SIGKILL the driver once ``condition()`` holds (and in any case, when waiting fails)."""
    try:
        wait_for(condition)
    finally:
        driver.send_signal(signal.SIGKILL)
        driver.wait()


def the_run(tmp_path: Path) -> RunDir | None:
    runs = list((tmp_path / "runs").glob("*")) if (tmp_path / "runs").exists() else []
    return RunDir(runs[0]) if runs and (runs[0] / "optuna.journal").exists() else None
