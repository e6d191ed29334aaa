"""The background tracker: Tune's callbacks return while the tracker is still busy, every call is
made in order, nothing is lost at the end, and a failing tracker never fails the sweep."""

from __future__ import annotations

import pickle
import threading

from search.core.outcome import Outcome
from search.trackers.background import BackgroundTracker
from search.trackers.base import SweepSummary, Tracker


class Recording(Tracker):
    """Records its calls; ``trial_started`` waits until ``release`` is set."""

    def __init__(self, fail_on: str | None = None):
        self.calls: list[tuple] = []
        self.release = threading.Event()
        self.fail_on = fail_on

    def __getstate__(self) -> dict:
        return {"calls": self.calls, "fail_on": self.fail_on}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["fail_on"])
        self.calls = state["calls"]

    def _record(self, *call) -> None:
        if call[0] == self.fail_on:
            raise RuntimeError("the tracker's server went away")
        self.calls.append(call)

    def trial_started(self, trial_id, config) -> None:
        self.release.wait(timeout=60)
        self._record("started", trial_id)

    def trial_result(self, trial_id, result) -> None:
        self._record("result", trial_id, result["step"])

    def trial_ended(self, trial_id, outcome, last_result) -> None:
        self._record("ended", trial_id, outcome.status)

    def sweep_ended(self, summary) -> None:
        self._record("sweep", summary.why)

    def close(self) -> None:
        self._record("close")

    def closing_note(self) -> str | None:
        return f"{len(self.calls)} calls"


def feed(tracker: Tracker) -> None:
    tracker.trial_started("a", {"learning_rate": 0.1})
    for step in (5, 10):
        tracker.trial_result("a", {"step": step})
    tracker.trial_ended("a", Outcome(status="completed", kind="finished"), {"step": 10})


def test_calls_return_while_the_tracker_is_busy_and_run_in_order_by_close():
    inner = Recording()
    tracker = BackgroundTracker(inner)
    feed(tracker)  # would wait forever here if the calls were made on this thread
    assert inner.calls == []
    inner.release.set()
    tracker.close()
    assert inner.calls == [("started", "a"), ("result", "a", 5), ("result", "a", 10),
                           ("ended", "a", "completed"), ("close",)]


def test_the_sweep_summary_and_the_closing_note_wait_for_everything_queued():
    inner = Recording()
    inner.release.set()
    tracker = BackgroundTracker(inner)
    feed(tracker)
    tracker.sweep_ended(SweepSummary(columns=[], rows=[], chosen=None, why="best"))
    assert inner.calls[-1] == ("sweep", "best")
    assert tracker.closing_note() == "5 calls"


def test_a_failing_call_is_logged_and_the_calls_after_it_still_happen(caplog):
    inner = Recording(fail_on="result")
    inner.release.set()
    tracker = BackgroundTracker(inner)
    feed(tracker)
    tracker.close()
    assert inner.calls == [("started", "a"), ("ended", "a", "completed"), ("close",)]
    assert "tracker Recording.trial_result failed" in caplog.text


def test_it_pickles_without_its_thread_and_works_after_unpickling():
    inner = Recording()
    inner.release.set()
    tracker = BackgroundTracker(inner)
    feed(tracker)
    tracker.close()
    copy = pickle.loads(pickle.dumps(tracker))  # Ray snapshots callbacks so
    copy.trial_result("b", {"step": 1})
    copy.close()
    assert copy.inner.calls[-2:] == [("result", "b", 1), ("close",)]
