"""The learning-curve forecast a freezing scheduler thaws by (``thaw: forecast``): what it
forecasts from a curve, and which frozen trials it lets the scheduler thaw."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
from ray.tune.experiment import Trial

from search.store.freeze_ledger import FreezeLedger
from search.store.stop_ledger import StopLedger
from search.tune.curve_forecast import FORECAST_Z, forecast_best
from search.tune.freezing import FreezingScheduler


def test_a_falling_line_in_log_steps_is_continued() -> None:
    # 0.70 at step 15, 0.60 at step 30: -0.1 per doubling; step 120 is two doublings on.
    forecast = forecast_best([(15, 0.70, 0.01), (30, 0.60, 0.01)], max_t=120)
    assert forecast.best == pytest.approx(0.40)
    # Two points fix the line: its error is theirs, carried out to step 120 (slope's error
    # sqrt(2) x 0.01 per doubling, over two doublings, with the last point's own error).
    assert 0.02 < forecast.se < 0.06
    assert forecast.optimistic == pytest.approx(forecast.best - FORECAST_Z * forecast.se)


def test_a_curve_that_turned_keeps_its_best_point() -> None:
    forecast = forecast_best([(15, 0.50, 0.01), (30, 0.45, 0.01), (45, 0.55, 0.01),
                              (60, 0.65, 0.01)], max_t=120)
    assert forecast.best == 0.45


def test_scatter_around_the_line_widens_the_forecast() -> None:
    smooth = forecast_best([(15, 0.70, 0.01), (30, 0.60, 0.01), (60, 0.50, 0.01)], 240)
    jagged = forecast_best([(15, 0.70, 0.01), (30, 0.45, 0.01), (60, 0.50, 0.01)], 240)
    assert jagged.se > 3 * smooth.se


def test_one_point_says_nothing_of_where_the_curve_goes() -> None:
    forecast = forecast_best([(15, 0.7, 0.01)], max_t=120)
    assert forecast.best == 0.7 and forecast.se == math.inf and forecast.optimistic == -math.inf


@pytest.mark.parametrize("curve", [[], [(15, math.nan, 0.01), (30, math.inf, 0.01)]])
def test_no_finite_report_forecasts_nothing_reachable(curve: list) -> None:
    assert forecast_best(curve, max_t=120).best == math.inf


def test_reports_without_a_standard_error_still_fit() -> None:
    forecast = forecast_best([(15, 0.70, 0.0), (30, 0.60, 0.0), (60, 0.50, 0.0)], 120)
    assert forecast.best == pytest.approx(0.40) and math.isfinite(forecast.se)


def _trial(trial_id: str, losses: list[float], status: str) -> Trial:
    trial = Trial("t", config={}, trial_id=trial_id, stub=True)
    for iteration, loss in enumerate(losses, 1):
        trial.update_last_result({"val_loss": loss, "step": 15 * iteration,
                                  "training_iteration": iteration})
    trial.set_status(status)
    return trial


def test_only_frozen_trials_that_can_still_win_are_thawed_best_forecast_first() -> None:
    """The incumbent reached 0.50. A trial frozen falling steeply can still pass it and is
    thawed; one frozen flat at 0.69 cannot (its forecast with two standard errors stays above
    0.50) and stays frozen, so the sweep ends without spending its steps."""
    freezes = FreezeLedger()
    scheduler = FreezingScheduler(max_t=120, grace_period=30, reduction_factor=2,
                                  freezes=freezes, stops=StopLedger(), slots=1, thaw="forecast")
    scheduler.set_search_properties("val_loss", "min")
    incumbent = _trial("a", [0.6, 0.5, 0.55], Trial.TERMINATED)
    steep = _trial("b", [0.70, 0.62], Trial.PAUSED)
    flat = _trial("c", [0.70, 0.69], Trial.PAUSED)
    freezes.freeze("b", 30, "test", curve=[(15, 0.70, 0.01), (30, 0.62, 0.01)])
    freezes.freeze("c", 30, "test", curve=[(15, 0.70, 0.01), (30, 0.69, 0.01)])
    stopped = []
    controller = SimpleNamespace(
        get_trials=lambda: [incumbent, steep, flat],
        search_alg=SimpleNamespace(is_finished=lambda: True),
        stop_trial=stopped.append)
    assert scheduler.choose_trial_to_run(controller) is steep
    assert "forecast" in freezes.history("b")[-1].reason
    steep.set_status(Trial.TERMINATED)
    assert scheduler.choose_trial_to_run(controller) is None
    assert stopped == [flat] and set(freezes.frozen()) == {"c"}
    assert "forecast could not beat" in scheduler.stops.decision("c").reason


def test_a_frozen_curve_survives_the_ledger_file(tmp_path) -> None:
    path = tmp_path / "freezes.jsonl"
    ledger = FreezeLedger(path)
    ledger.rung("b", 30, 0.62)
    ledger.freeze("b", 30, "test", curve=[(15, 0.7, 0.01), (30, 0.62, 0.01)])
    assert FreezeLedger(path).frozen()["b"].curve == [[15, 0.7, 0.01], [30, 0.62, 0.01]]
    rung_line = path.read_text().splitlines()[0]
    assert "curve" not in rung_line and FreezeLedger(path).rung_scores(30) == {"b": 0.62}
