"""One live driver per run directory: ``basin run`` and ``basin resume`` hold the run
directory's lock while they drive its sweep, and a second driver is refused in one line.

The lock is an advisory ``flock`` on ``driver.lock``, held by the open file: the kernel lets go
of it when the driver's process ends however it ends (SIGKILL, a lost node), so a dead driver
never holds it. The file also says who holds it (process, host, since when), for the message.
An object-store run directory is locked through its working copy on this machine: two drivers
on different machines are not seen by each other (docs/clusters.md).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path
from typing import IO

from search.core.errors import SpecError
from search.core.layout import DRIVER_LOCK

# `basin status` and `basin ls` probe the lock for an instant (live_driver); a driver starting in
# that instant waits this long for it rather than be refused.
PROBE_PATIENCE_S = 1.0


class DriverLock:
    """The run directory's driver lock, held from ``acquire`` until ``release`` or the end of
    the process."""

    def __init__(self, folder: Path, shown: str) -> None:
        self.file = folder / DRIVER_LOCK
        self.shown = shown
        self._handle: IO[str] | None = None

    def acquire(self, command: str) -> None:
        """Take the lock, or refuse (SpecError) naming the live driver that holds it."""
        self.file.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.file, "a+", encoding="utf-8")  # noqa: SIM115 (held while we drive)
        if not _take(handle, fcntl.LOCK_EX, PROBE_PATIENCE_S):
            handle.seek(0)
            owner = _describe(handle.read())
            handle.close()
            raise SpecError([f"{self.shown}: a live driver is running this sweep ({owner}); "
                             "wait for it to end, or stop it (Ctrl-C, or kill -TERM its "
                             "process) and then resume"]) from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                 "command": command, "since": time.strftime(
                                     "%Y-%m-%d %H:%M:%S")}) + "\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        """Let go of the lock (the file stays: it is only a lock while held)."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> DriverLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def live_driver(folder: Path) -> str | None:
    """Who drives the sweep in ``folder`` now ('basin resume, process 123 on node-1 since ...'),
    or None when no live driver holds its lock: a sweep that is not finished is then
    interrupted. Takes the lock shared for an instant and lets go (``acquire`` waits that out)."""
    lock = folder / DRIVER_LOCK
    try:
        handle = open(lock, encoding="utf-8")  # noqa: SIM115 (closed below, either way)
    except FileNotFoundError:
        return None
    with handle:
        if _take(handle, fcntl.LOCK_SH, 0.0):
            return None  # closing the file lets go of the shared lock
        return _describe(handle.read())


def _take(handle: IO[str], kind: int, patience_s: float) -> bool:
    """Take ``flock`` of ``kind`` on ``handle`` without blocking, trying again for up to
    ``patience_s`` seconds; whether it was taken."""
    deadline = time.monotonic() + patience_s
    while True:
        try:
            fcntl.flock(handle, kind | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)


def _describe(recorded: str) -> str:
    """Who holds the lock, from what it wrote: 'basin resume, process 123 on node-1 since ...'."""
    try:
        owner = json.loads(recorded)
        return (f"basin {owner['command']}, process {owner['pid']} on {owner['host']} since "
                f"{owner['since']}")
    except (ValueError, KeyError, TypeError):
        return "process unknown"
