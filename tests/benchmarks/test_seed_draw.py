"""The replay over a table with seed replicates (benchmarks/replay/seed_draw.py): a visit is
answered by one of a configuration's seeds, a revisit by another, a hand-over scored on the seed
the method saw (or, trained once more, on one it did not see); a table without replicates
replays exactly as before."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from benchmarks.curve_table import CurveTable
from benchmarks.replay import scoring
from benchmarks.replay.methods import METHODS, best_result
from benchmarks.replay.replayed import Setting
from benchmarks.replay.scoring import regret, row_of
from benchmarks.replay.seed_draw import SeedDraw
from tests.benchmarks.synthetic_table import replicated_table, synthetic_table

ALONE = 20  # the one configuration not trained again
REPLICATED = [config for config in range(32) if config != ALONE]  # again with seeds 1 and 2


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> tuple[CurveTable, CurveTable]:
    """The same table without and with replicates."""
    folder = tmp_path_factory.mktemp("seeds")
    plain = synthetic_table(folder / "plain.json", count=32)
    replicated = replicated_table(plain, folder / "replicated.json", REPLICATED)
    return CurveTable.load(plain), CurveTable.load(replicated)


def test_curves_are_the_configurations_then_their_replicates(tables) -> None:
    plain, replicated = tables
    assert len(replicated.curves) == 32 + 2 * len(REPLICATED)
    assert replicated.curves[:32] == replicated.configs
    assert replicated.seeds(3) == {0: 3, 1: 32 + 3, 2: 32 + len(REPLICATED) + 3}
    assert replicated.seeds(ALONE) == {0: ALONE}
    # What ranks the configurations reads seed 0 only: the replicates change no oracle.
    assert replicated.oracle() == plain.oracle()
    assert replicated.top_configs() == plain.top_configs()
    assert list(replicated.weights) == list(plain.weights)


def test_a_revisit_sees_another_seed_while_one_is_left(tables) -> None:
    _, table = tables
    draw = SeedDraw(table, replay_seed=4)
    seen = [table.seed_of[draw.visit(3)] for _ in range(3)]
    assert sorted(seen) == [0, 1, 2]
    assert table.seed_of[draw.visit(3)] in (0, 1, 2)  # all seen: any of them
    assert all(draw.visit(ALONE) == ALONE for _ in range(3))  # no replicates: its own seed
    again = SeedDraw(table, replay_seed=4)
    assert [table.seed_of[again.visit(3)] for _ in range(3)] == seen  # seeded
    firsts = {table.seed_of[SeedDraw(table, seed).visit(3)] for seed in range(20)}
    assert firsts == {0, 1, 2}  # the replay seed decides the first visit's seed


def test_a_configuration_trained_once_more_is_scored_on_a_seed_the_sweep_did_not_see(
        tables) -> None:
    _, table = tables
    draw = SeedDraw(table, replay_seed=0)
    curve = draw.visit(5)
    retrained = draw.retrained(curve)
    assert table.config_of[retrained] == 5
    assert table.seed_of[retrained] == min({0, 1, 2} - {table.seed_of[curve]})
    draw.visit(5), draw.visit(5)  # every seed seen: the seed after the pick's
    assert table.seed_of[draw.retrained(curve)] == (table.seed_of[curve] + 1) % 3
    assert draw.retrained(draw.visit(ALONE)) == ALONE  # one seed: the same curve


def test_a_pick_is_scored_on_its_seed(tables) -> None:
    _, table = tables
    seed_two = table.seeds(1)[2]
    assert scoring.test_of(table, (seed_two, 120))["test_loss"] == table.row_at(seed_two, 120)[
        "test_loss"] != table.row_at(1, 120)["test_loss"]
    config, step = table.oracle()
    assert regret(table, (config, step)) == 0.0  # against seed 0's best-validation checkpoint


def test_a_table_without_replicates_replays_as_before(tables) -> None:
    plain, replicated = tables
    for method in ("random", "basin", "ray", "one-epoch"):
        setting = Setting(12, 2, seed=1)
        before = METHODS[method](plain, setting, [1e9], method)
        off = METHODS[method](replicated, Setting(12, 2, 1, seed_draws=False), [1e9], method)
        assert (off.pick, off.configs, off.steps) == (before.pick, before.configs, before.steps)
        row = row_of(plain, setting, before)
        assert row["pick_seed"] == 0 and row["pick"] == list(before.pick)


def test_with_replicates_the_hand_over_carries_its_seed(tables) -> None:
    _, table = tables
    seeds = set()
    for replay_seed in range(6):
        setting = Setting(16, 2, replay_seed)
        replayed = METHODS["random"](table, setting, [1e9], "random")
        row = row_of(table, setting, replayed)
        curve = replayed.pick[0]
        assert row["pick"] == [table.config_of[curve], replayed.pick[1]]
        assert row["pick_seed"] == table.seed_of[curve]
        assert row["test_loss"] == pytest.approx(
            table.row_at(curve, replayed.pick[1])["test_loss"], abs=1e-5)
        seeds.add(row["pick_seed"])
    assert len(seeds) > 1  # the seeds the methods saw differ between replays


def test_get_best_result_scope_last_and_all() -> None:
    def trial(number: int, losses: list[float]) -> SimpleNamespace:
        return SimpleNamespace(number=number, results=[{"val_loss": v} for v in losses])

    early_best = trial(0, [0.50, 0.70])  # best early, worse at its end
    steady = trial(1, [0.60, 0.55])
    diverged = trial(2, [0.40, float("nan")])
    trials = [early_best, steady, diverged]
    assert best_result(trials, "val_loss", "min", "last") is steady
    assert best_result(trials, "val_loss", "min", "all") is diverged
    assert best_result(trials[:2], "val_loss", "min", "all") is early_best
    assert best_result(trials[:2], "val_loss", "max", "last") is early_best
    assert best_result([trial(3, [])], "val_loss", "min", "all") is None


@pytest.mark.parametrize("method", ["ray-all", "gp"])
def test_the_added_methods_replay(tables, method: str, tmp_path: Path) -> None:
    _, table = tables
    replayed = METHODS[method](table, Setting(8, 2, 0), [1e9], method)
    assert replayed.pick is not None and replayed.pick[1] is None  # trained once more
    assert len(replayed.configs) == 8
    if method == "gp":  # no pruner: every trial trains its whole budget
        assert replayed.steps == 8 * table.spec.training.max_steps and not replayed.stopped
