"""The table re-check's comparison: how far a configuration trained again lands from its entry."""

from __future__ import annotations

import pytest

from benchmarks.table_recheck import chosen_configs, compare


def entry(config: int, losses: list[float], tests: list[float]) -> dict:
    return {"config": config, "params": {"learning_rate": 1e-3}, "outcome": "completed",
            "evaluations": [{"step": 15 * (i + 1), "val_loss": v, "test_loss": t}
                            for i, (v, t) in enumerate(zip(losses, tests))]}


def test_the_comparison_names_the_largest_move_and_the_best_step_then_and_now():
    table = entry(3, [0.70, 0.62, 0.65], [0.71, 0.60, 0.66])
    again = entry(3, [0.70, 0.66, 0.64], [0.71, 0.63, 0.62])
    row = compare(table, again)
    assert row["max_val_difference"] == pytest.approx(0.04)
    assert row["best_step"] == [30, 45] and row["best_val_loss"] == [0.62, 0.64]
    # The test loss at the step the table would have handed on, then and now.
    assert row["test_loss_at_table_best"] == [0.60, 0.63]
    assert compare(table, table)["max_val_difference"] == 0


def test_configurations_are_drawn_with_the_seed_or_named():
    table = {"configs": [entry(i, [0.7], [0.7]) for i in range(10)]}
    drawn = [e["config"] for e in chosen_configs(table, 3, seed=0, configs=None)]
    assert drawn == [e["config"] for e in chosen_configs(table, 3, seed=0, configs=None)]
    assert len(set(drawn)) == 3 and drawn == sorted(drawn)
    assert [e["config"] for e in chosen_configs(table, 3, 0, [7, 2])] == [7, 2]
    with pytest.raises(SystemExit, match="no configuration 12"):
        chosen_configs(table, 3, 0, [12])
