"""basin confirm replayed over a table with seed replicates (benchmarks/replay/confirm_replay.py)."""

from __future__ import annotations

import pytest

from benchmarks.curve_table import CurveTable
from benchmarks.replay.confirm_replay import (
    CONFIRMED,
    NO_REPLICATES,
    NO_ROOM,
    NOTHING,
    confirmed_pick,
    fitting,
    new_seed_curves,
)
from benchmarks.replay.methods import METHODS, VARIANTS
from benchmarks.replay.replayed import Setting
from benchmarks.replay.scoring import row_of
from benchmarks.replay.seed_draw import SeedDraw
from tests.benchmarks.synthetic_table import replicated_table, synthetic_table

ALONE = 20


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> CurveTable:
    folder = tmp_path_factory.mktemp("confirm")
    plain = synthetic_table(folder / "plain.json", count=32)
    return CurveTable.load(replicated_table(plain, folder / "replicated.json",
                                            [c for c in range(32) if c != ALONE]))


def test_as_many_candidates_as_fit_a_quarter_of_the_sweep() -> None:
    assert fitting([60, 60, 60], seeds=1, spent=720) == 3  # 180 <= 180
    assert fitting([60, 60, 60], seeds=2, spent=720) == 0  # two need 240 > 180
    assert fitting([60, 60, 120, 30], seeds=1, spent=800) == 2  # 3 take 240 > 200
    assert fitting([60, 60, 120, 30], seeds=1, spent=1080) == 4  # 270 <= 270
    assert fitting([60], seeds=1, spent=10_000) == 0  # one candidate is not a comparison


def test_new_seeds_are_the_ones_the_sweep_did_not_see(table: CurveTable) -> None:
    draw = SeedDraw(table, replay_seed=0)
    curve = draw.visit(4)
    new = new_seed_curves(table, draw, curve, seeds=2)
    assert sorted(table.seed_of[c] for c in new) == sorted({0, 1, 2} - {table.seed_of[curve]})
    assert all(table.config_of[c] == 4 for c in new)
    draw.visit(4)
    assert len(new_seed_curves(table, draw, curve, seeds=2)) == 1  # one left unseen
    assert new_seed_curves(table, None, 4, seeds=5) == [table.seeds(4)[1], table.seeds(4)[2]]


def test_the_best_mean_over_new_seeds_wins(table: CurveTable) -> None:
    # Odd configurations' replicates are worse than their seed 0 by 0.004 per seed, even ones'
    # better. At step 60, configuration 11 leads 12 on seed 0 by less than the 0.012 their means
    # over seeds 1 and 2 move apart: the confirm hands on 12, and keeps 11 against 2.
    def val(config: int) -> float:
        return table.row_at(config, 60)["val_loss"]

    assert 0 < val(12) - val(11) < 0.012 < val(2) - val(11)
    picked, done = confirmed_pick(table, None, [(11, 60), (12, 60)], top=2, seeds=2,
                                  spent=10_000, metric="val_loss", mode="min")
    assert picked == (12, 60) and done["status"] == CONFIRMED and done["changed"]
    assert done["steps"] == 2 * (60 + 60) and done["candidates"] == 2
    picked, done = confirmed_pick(table, None, [(11, 60), (2, 60)], top=2, seeds=2,
                                  spent=10_000, metric="val_loss", mode="min")
    assert picked == (11, 60) and not done["changed"]
    # Higher is better: the same figures, the other way round.
    picked, _ = confirmed_pick(table, None, [(11, 60), (12, 60)], top=2, seeds=2,
                               spent=10_000, metric="val_loss", mode="max")
    assert picked == (11, 60)


def test_no_room_and_no_replicates_hand_on_the_sweeps_choice(table: CurveTable) -> None:
    leaders = [(3, 60), (ALONE, 60)]
    assert confirmed_pick(table, None, leaders, 2, 2, spent=100, metric="val_loss",
                          mode="min") == ((3, 60), {"status": NO_ROOM, "steps": 0})
    picked, done = confirmed_pick(table, None, leaders, 2, 2, spent=10_000, metric="val_loss",
                                  mode="min")
    assert picked == (3, 60) and done["status"] == NO_REPLICATES
    assert confirmed_pick(table, None, [], 2, 2, 0, "val_loss", "min")[0] is None
    assert confirmed_pick(table, None, [], 2, 2, 0, "val_loss", "min")[1]["status"] == NOTHING


def test_a_confirmed_sweep_counts_the_confirms_steps(table: CurveTable) -> None:
    setting = Setting(20, 2, 3)
    plain = METHODS["basin"](table, setting, [1e9], "basin")
    for name in ("basin-confirm-2x2", "basin-confirm-3x1", "basin-confirm-5x1"):
        confirmed = VARIANTS[name](table, setting, [1e9], name)
        done = confirmed.extra["confirm"]
        assert confirmed.configs == plain.configs  # the same sweep, then the confirm
        assert confirmed.steps == plain.steps + done["steps"]
        assert done["steps"] <= 0.25 * plain.steps
        if done["status"] != CONFIRMED or not done["changed"]:
            assert confirmed.pick == plain.pick
        assert row_of(table, setting, confirmed)["confirm"] == done
