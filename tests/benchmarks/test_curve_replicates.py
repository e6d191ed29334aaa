"""Seed replicates of a learning-curve table: which configurations, and how they are kept."""

from __future__ import annotations

import math
from pathlib import Path

from benchmarks.curve_replicates import best_val, replicated_configs
from benchmarks.curve_table import read_table, write_table


def entry(config: int, losses: list[float], seed: int | None = None) -> dict:
    row = {"config": config, "params": {"learning_rate": 1e-3}, "outcome": "completed",
           "evaluations": [{"step": 15 * (i + 1), "val_loss": v} for i, v in enumerate(losses)]}
    return row if seed is None else {**row, "seed": seed}


def test_the_best_by_validation_then_a_seeded_draw_of_the_rest():
    configs = [entry(i, [0.7, 0.6 + i / 100]) for i in range(30)]
    configs[29]["evaluations"][1]["val_loss"] = math.nan  # a diverged curve: its finite best
    assert best_val(configs[29]) == 0.7
    chosen = replicated_configs(configs, top=5, drawn=3)
    assert chosen[:5] == [0, 1, 2, 3, 4]
    assert len(set(chosen[5:])) == 3 and not set(chosen[5:]) & set(range(5))
    assert chosen == replicated_configs(list(reversed(configs)), top=5, drawn=3)  # seeded


def test_a_table_keeps_its_replicates_beside_its_configurations(tmp_path: Path):
    configs = [entry(0, [0.7, 0.6]), entry(1, [0.7, 0.65])]
    replicates = [entry(0, [0.71, 0.61], seed=1), entry(0, [0.69, 0.62], seed=2)]
    for name in ("t.json", "t.json.gz"):
        write_table(tmp_path / name, {"table": "x"}, configs, replicates)
        table = read_table(tmp_path / name)
        assert table["configs"] == configs and table["replicates"] == replicates
    write_table(tmp_path / "plain.json", {"table": "x"}, configs)
    assert "replicates" not in read_table(tmp_path / "plain.json")
