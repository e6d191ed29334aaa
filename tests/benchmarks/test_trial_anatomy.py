"""The overhead benchmark's slot figures, on spans whose answer is known."""

from __future__ import annotations

import pytest

from benchmarks.trial_anatomy import figures


def span(began: float, ended: float, startup: float, warm: bool) -> dict:
    return {"began": began, "ended": ended, "startup_s": startup, "warm": warm}


def test_busy_shares_count_the_tail_only_in_the_whole_sweep_figure():
    # Two slots over a 100 s sweep. Slot 1: 0-40, then 41-100 (1 s hand-over). Slot 2: 0-50,
    # then idle: nothing was left to start after the last start at 41.
    spans = [span(0, 40, 4, False), span(41, 100, 0.1, True), span(0, 50, 4, False)]
    found = figures(spans, wall=100, slots=2)
    assert found["busy_share"] == pytest.approx((40 + 59 + 50) / 200)
    # Window 0-41: slot 1 busy 40 s, slot 2 busy 41 s.
    assert found["busy_while_queued"] == pytest.approx((40 + 41) / 82)
    assert found["startup_cold_s"] == [4, 4] and found["startup_warm_s"] == [0.1]
    assert found["training_median_s"] == pytest.approx(46)
