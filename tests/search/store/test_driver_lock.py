"""The run directory's driver lock: a second holder is refused in one line naming the first;
released, it can be taken again; a lock file with nothing readable in it still refuses."""

from __future__ import annotations

import os

import pytest

from search.core.errors import SpecError
from search.core.layout import DRIVER_LOCK
from search.store.driver_lock import DriverLock


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
