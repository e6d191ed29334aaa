"""A tracker's calls made on a thread of their own, so Ray Tune's event loop never waits on them.

Tune calls its callbacks on the loop that also starts trials, hands results to the searcher
and the stopping rules: every millisecond a tracker spends there (W&B creating, writing and
finishing a run) is a millisecond no slot is handed its next trial. ``BackgroundTracker`` puts
each call in a queue and returns; one writer thread makes the calls in order. Nothing is lost:
``close`` (Tune's experiment end, also after Ctrl-C) and ``sweep_ended`` wait until the queue
is empty, and so does the interpreter's exit. A tracker's failure stays the tracker's: it is
logged and the sweep goes on.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
from typing import Any

from search.core.outcome import Outcome
from search.trackers.base import SweepSummary, Tracker

logger = logging.getLogger(__name__)


class BackgroundTracker(Tracker):
    """Runs ``inner``'s per-trial calls on a writer thread, in the order Tune made them."""

    def __init__(self, inner: Tracker):
        self.inner = inner
        self._queue: queue.Queue | None = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict:
        # Ray pickles callbacks (and so their trackers) with its experiment state: the queue
        # and the thread stay here; an unpickled tracker starts its own when first called.
        return {"inner": self.inner}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["inner"])

    def _submit(self, method: str, *args: Any) -> None:
        with self._lock:
            if self._queue is None:
                self._queue = queue.Queue()
                threading.Thread(target=self._write, args=(self._queue,), daemon=True,
                                 name=f"basin-{type(self.inner).__name__}").start()
                atexit.register(self.drain)
        self._queue.put((method, args))

    def _write(self, calls: queue.Queue) -> None:
        while True:
            method, args = calls.get()
            try:
                getattr(self.inner, method)(*args)
            except Exception:  # a tracker never fails a sweep (trackers guard themselves too)
                logger.exception("tracker %s.%s failed", type(self.inner).__name__, method)
            finally:
                calls.task_done()

    def drain(self) -> None:
        """Wait until every call made so far has been carried out."""
        if self._queue is not None:
            self._queue.join()

    # -- the tracker's events: announced at once, the rest queued ------------------------------

    def announce(self) -> None:
        self.inner.announce()  # a line on the console, in order with the sweep's own

    def trial_started(self, trial_id: str, config: dict[str, Any]) -> None:
        self._submit("trial_started", trial_id, dict(config))

    def trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        self._submit("trial_result", trial_id, dict(result))

    def trial_ended(self, trial_id: str, outcome: Outcome, last_result: dict[str, Any]) -> None:
        self._submit("trial_ended", trial_id, outcome, last_result)

    def trial_checked(self, trial_id: str, config: dict[str, Any], outcome: Outcome,
                      last_result: dict[str, Any], figures: dict[str, Any]) -> None:
        self._submit("trial_checked", trial_id, dict(config), outcome, last_result, figures)

    def sweep_ended(self, summary: SweepSummary) -> None:
        self._submit("sweep_ended", summary)
        self.drain()

    def close(self) -> None:
        self._submit("close")
        self.drain()

    def closing_note(self) -> str | None:
        self.drain()
        return self.inner.closing_note()
