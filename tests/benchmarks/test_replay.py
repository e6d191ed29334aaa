"""The replay benchmark's parts, on hand-made tables (no training, no Ray cluster): the lookup,
the simulated trial loop, the methods' decisions, the scoring and the report's statistics."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from benchmarks.curve_table import CurveTable, read_table, write_table
from benchmarks.curve_tables import sobol_configurations
from benchmarks.replay.clock import Budget
from benchmarks.replay.methods import METHODS, basin_sweep
from benchmarks.replay.replayed import Setting
from benchmarks.replay.report import bootstrap_interval, holdout_report
from benchmarks.replay.scoring import lost_winners, regret, row_of
from search.core.evaluation import Evaluation
from search.stopping import GapRule
from tests.benchmarks.synthetic_table import synthetic_table


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> CurveTable:
    return CurveTable.load(synthetic_table(tmp_path_factory.mktemp("t") / "table.json",
                                           count=32))


def test_sobol_design_covers_the_space() -> None:
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    space = {"lr": FloatDistribution(1e-4, 1e-2, log=True), "r": CategoricalDistribution([4, 8]),
             "wd": FloatDistribution(0.0, 0.1)}
    configs = sobol_configurations(space, 16, seed=0)
    assert configs == sobol_configurations(space, 16, seed=0)  # seeded
    assert {c["r"] for c in configs} == {4, 8}
    assert all(1e-4 <= c["lr"] <= 1e-2 and 0 <= c["wd"] <= 0.1 for c in configs)
    # Log scale: half the design below the geometric middle of the range.
    assert sum(c["lr"] < 1e-3 for c in configs) == 8


def test_nearest_answers_a_tabulated_configuration_with_itself(table: CurveTable) -> None:
    for index, entry in enumerate(table.configs):
        assert table.nearest(entry["params"]) == index
        assert table.nearest(entry["params"], exclude=index) != index
    shifted = dict(table.configs[3]["params"])
    shifted["learning_rate"] *= 1.01
    assert table.nearest(shifted) == 3


def test_reports_hide_the_test_split(table: CurveTable) -> None:
    for report in table.reports(0):
        assert not any(key.startswith("test_") for key in report)
        assert report["is_final"] == (report["step"] == 120)
    assert "test_loss" in table.configs[0]["evaluations"][0]


def test_gzipped_table_round_trips(tmp_path: Path, table: CurveTable) -> None:
    raw = read_table(table.path)
    write_table(tmp_path / "t.json.gz", raw["meta"], raw["configs"])
    assert read_table(tmp_path / "t.json.gz") == raw
    first = (tmp_path / "t.json.gz").read_bytes()
    write_table(tmp_path / "t.json.gz", raw["meta"], raw["configs"])
    assert (tmp_path / "t.json.gz").read_bytes() == first  # same table, same bytes


def test_budget_takes_the_pick_before_each_threshold() -> None:
    picks = iter(range(100))
    budget = Budget([10, 20, 30], lambda: next(picks))
    budget.spend(5)
    budget.spend(10)  # passes 10: the pick before it
    budget.spend(20)  # passes 20 and 30 at once
    assert budget.close() == [0, 1, 2]
    budget = Budget([10, 100], lambda: "final")
    budget.spend(10)
    assert budget.close() == ["final", "final"]


@pytest.mark.parametrize("concurrency", [1, 2, 8])
def test_full_budget_random_search_trains_every_step(table: CurveTable, concurrency: int
                                                     ) -> None:
    replayed = METHODS["random"](table, Setting(10, concurrency, 0), [1e9], "random")
    assert replayed.steps == 10 * 120 and not replayed.stopped
    assert len(replayed.configs) == 10
    best = min(replayed.configs, key=table.best_val_loss)
    assert replayed.pick == (best, table.best_val_step(best))


def test_more_slots_finish_sooner(table: CurveTable) -> None:
    one = METHODS["random"](table, Setting(8, 1, 0), [1e9], "random")
    eight = METHODS["random"](table, Setting(8, 8, 0), [1e9], "random")
    assert eight.seconds < one.seconds / 4


def test_gap_stops_where_the_rule_says(table: CurveTable) -> None:
    """A replayed stop is basin's GapRule deciding on the tabulated curve."""
    rule = {"patience": 1, "grace_steps": 30}
    replayed = basin_sweep({"scheduler": {"type": "fifo"},
                            "stopping": {"gap": rule, "not_learning": None}})(
        table, Setting(12, 2, 1), [1e9], "basin")
    gap_stops = [(c, s) for c, kind, s in replayed.stopped if kind == "gap"]
    assert gap_stops
    for config, step in gap_stops:
        history = []
        for report in table.reports(config):
            history.append(Evaluation.from_result(report))
            if GapRule(**rule).reason(history):
                break
        assert history[-1].step == step


def test_diverged_configuration_is_pruned(tmp_path: Path) -> None:
    path = synthetic_table(tmp_path / "t.json", count=4)
    raw = read_table(path)
    entry = raw["configs"][0]
    entry["outcome"], entry["reason"] = "diverged", "non-finite training loss nan at step 37"
    entry["evaluations"] = entry["evaluations"][:2]
    write_table(path, raw["meta"], raw["configs"])
    table = CurveTable.load(path)
    assert table.diverged_at(0) == 37
    replayed = basin_sweep({"scheduler": {"type": "fifo"}, "search": {"sampler": "random"}})(
        table, Setting(12, 2, 0), [1e9], "basin")
    assert 0 in replayed.configs
    assert {kind for config, kind, _ in replayed.stopped if config == 0} == {"diverged"}
    assert replayed.pick is not None and replayed.pick[0] != 0


def test_regret_is_zero_for_the_tables_best_checkpoint(table: CurveTable) -> None:
    config, step = table.oracle()
    assert regret(table, (config, step)) == 0
    assert regret(table, (config, None)) == 0  # retrained: scored at its best step
    assert regret(table, None) is None
    worst = max(range(len(table.configs)), key=table.best_val_loss)
    assert regret(table, (worst, None)) > 0


def test_lost_winners_counts_early_ends_of_top_configurations(table: CurveTable) -> None:
    from benchmarks.replay.replayed import Replayed

    top = sorted(table.top_configs())
    assert len(top) == 2  # 5% of 32, rounded up
    best = table.best_val_step(top[0])
    other = next(config for config in range(len(table.configs)) if config not in top)
    replayed = Replayed("x", None, 0, 0.0, [], stopped=[(top[0], "asha", best - 15),
                                                        (top[1], "gap", 120),
                                                        (other, "asha", 15)])
    assert lost_winners(table, replayed) == {"ended": {"asha": 1, "gap": 1},
                                             "lost": {"asha": 1}}


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_answers_and_spends_at_most_the_full_budget(table: CurveTable,
                                                                 method: str) -> None:
    setting = Setting(10, 2, 3)
    replayed = METHODS[method](table, setting, [120.0 * k for k in range(1, 11)], method)
    row = row_of(table, setting, replayed)
    assert row["regret"] is not None and math.isfinite(row["regret"])
    assert 0 < row["steps"] <= 10 * 120
    assert len(row["anytime"]) == 10
    # The pick at the end of the anytime curve is what the method hands on.
    assert row["anytime"][-1] == row["regret"]
    again = METHODS[method](table, setting, [120.0 * k for k in range(1, 11)], method)
    assert again.pick == replayed.pick and again.configs == replayed.configs  # seeded


def test_bootstrap_interval_brackets_the_mean() -> None:
    values = [0.1, 0.2, 0.15, 0.3, 0.05, 0.12]
    low, high = bootstrap_interval(values)
    assert low < sum(values) / len(values) < high
    assert bootstrap_interval(values) == (low, high)  # seeded
    assert all(math.isnan(v) for v in bootstrap_interval([1.0]))


def test_holdout_report_measures_the_lookup(table: CurveTable) -> None:
    text = holdout_report([table])
    assert "| table |" in text and "weighted nearest (nested)" in text
    assert "the table's mean" in text and "fitted weights" in text


def test_fitted_weights_find_the_hyperparameter_that_matters(table: CurveTable) -> None:
    """The made-up curves depend on the learning rate alone: the fitted distance weighs it
    most, and the weighted lookup predicts a held-out configuration's best loss better than
    the plain one."""
    from benchmarks.curve_table import nearest_errors

    weights = dict(zip(table.names, table.weights))
    assert weights["learning_rate"] == max(weights.values())
    best = table.best_val_losses()
    plain = nearest_errors(table.coords, best, [1.0] * len(table.names)).mean()
    assert nearest_errors(table.coords, best, table.weights).mean() < plain


def _freeze(table: CurveTable, budget: int | None, concurrency: int = 2) -> Any:
    search = {"max_total_steps": budget} if budget else {}
    return basin_sweep({"scheduler": {"type": "freeze", "grace_period": 30,
                                      "reduction_factor": 2},
                        "stopping": {"gap": None, "not_learning": None},
                        "search": search})(table, Setting(12, concurrency, 0), [1e9], "freeze")


def test_freezing_thaws_within_the_step_budget(table: CurveTable) -> None:
    """Frozen trials are thawed only while the budget lasts: with none every frozen trial is
    thawed and trains its whole budget; with one, the thaws stop where a thaw would pass it and
    the rest end pruned: frozen."""
    free = _freeze(table, None)
    assert free.steps == 12 * 120 and not free.stopped
    explored = _freeze(table, 1)  # no thaw fits: what the exploration alone spends
    assert {kind for _, kind, _ in explored.stopped} == {"frozen"}
    budget = explored.steps + 200
    bounded = _freeze(table, budget)
    assert explored.steps < bounded.steps <= budget
    assert {kind for _, kind, _ in bounded.stopped} == {"frozen"}


@pytest.mark.parametrize("concurrency", [4, 8])
def test_thaws_leave_room_for_the_trials_still_running(table: CurveTable,
                                                       concurrency: int) -> None:
    """With several trials at a time, a thaw counts the steps the running trials may still
    take: the sweep never passes its budget (it did by their steps when only spent steps
    counted), and more budget never means fewer steps."""
    explored = _freeze(table, 1, concurrency).steps
    spent = []
    for extra in (120, 240, 360, 480):
        bounded = _freeze(table, explored + extra, concurrency)
        assert bounded.steps <= explored + extra
        spent.append(bounded.steps)
    assert spent == sorted(spent) and spent[-1] > explored
