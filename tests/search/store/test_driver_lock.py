"""The run directory's driver lock: a second holder is refused in one line naming the first;
released, it can be taken again; a lock file with nothing readable in it still refuses; it tells
a live driver from none, and a driver does not mistake that probe for a live one."""

from __future__ import annotations

import fcntl
import os
import threading

import pytest

from search.core.errors import SpecError
from search.core.layout import DRIVER_LOCK
from search.store.driver_lock import DriverLock, live_driver


def test_a_second_driver_is_refused_naming_the_first(tmp_path) -> None:
    with DriverLock(tmp_path, "runs/x") as first:
        first.acquire("run")
        with pytest.raises(SpecError) as refused:
            DriverLock(tmp_path, "runs/x").acquire("resume")
        (problem,) = refused.value.problems
        assert problem.startswith("runs/x: a live driver is running this sweep (basin run, "
                                  f"process {os.getpid()} on ")
        assert "\n" not in problem
    again = DriverLock(tmp_path, "runs/x")
    again.acquire("resume")  # released: free again
    assert '"command": "resume"' in (tmp_path / DRIVER_LOCK).read_text()
    again.release()


def test_an_unreadable_lock_file_still_refuses(tmp_path) -> None:
    holder = DriverLock(tmp_path, "runs/x")
    holder.acquire("run")
    (tmp_path / DRIVER_LOCK).write_text("not json")
    with pytest.raises(SpecError, match=r"\(process unknown\)"):
        DriverLock(tmp_path, "runs/x").acquire("resume")
    holder.release()


def test_the_lock_says_whether_a_live_driver_holds_it(tmp_path) -> None:
    assert live_driver(tmp_path) is None  # never driven
    with DriverLock(tmp_path, "runs/x") as driver:
        driver.acquire("run")
        assert live_driver(tmp_path).startswith(f"basin run, process {os.getpid()} on ")
    assert live_driver(tmp_path) is None  # its driver gone, the file stays and holds nothing


def test_a_driver_starting_while_the_lock_is_probed_waits_instead_of_being_refused(tmp_path):
    (tmp_path / DRIVER_LOCK).write_text("")
    probe = open(tmp_path / DRIVER_LOCK)  # what live_driver holds for an instant, held longer
    fcntl.flock(probe, fcntl.LOCK_SH)
    threading.Timer(0.3, probe.close).start()  # well within PROBE_PATIENCE_S
    with DriverLock(tmp_path, "runs/x") as driver:
        driver.acquire("resume")
        assert '"command": "resume"' in (tmp_path / DRIVER_LOCK).read_text()
