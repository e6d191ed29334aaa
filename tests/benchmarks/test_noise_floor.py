"""A table's seed noise from its replicates (benchmarks/noise_floor.py)."""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import pytest

from benchmarks.curve_table import write_table
from benchmarks.noise_floor import main, noise_floor


def entry(config: int, curve: list[tuple[float, float]], seed: int | None = None) -> dict:
    """An entry whose evaluations are (val_loss, test_loss) at steps 15, 30, ..."""
    row = {"config": config, "params": {"learning_rate": 1e-3 * (config + 1)},
           "outcome": "completed",
           "evaluations": [{"step": 15 * (i + 1), "val_loss": val, "test_loss": test}
                           for i, (val, test) in enumerate(curve)]}
    return row if seed is None else {**row, "seed": seed}


def table() -> dict:
    configs = [entry(0, [(0.70, 0.66), (0.60, 0.50)]),  # best at step 30: test 0.50
               entry(1, [(0.65, 0.60), (0.68, 0.70)]),  # best at step 15: test 0.60
               entry(2, [(0.90, 0.90)])]                # not replicated
    replicates = [entry(0, [(0.58, 0.52), (0.62, 0.40)], seed=1),  # its own best: step 15
                  entry(0, [(0.71, 0.61), (0.59, 0.47)], seed=2),
                  entry(1, [(0.66, 0.62), (0.64, 0.58)], seed=1),
                  entry(1, [(math.nan, math.nan), (math.nan, math.nan)], seed=2)]  # diverged
    return {"meta": {"table": "t", "replicates": {"seeds": [1, 2]}}, "configs": configs,
            "replicates": replicates}


def test_each_seed_is_scored_at_its_own_best_validation_step():
    result = noise_floor(table())
    first, second = result["configs"]
    assert [first["config"], second["config"]] == [0, 1]  # config 2 has no replicates
    assert first["seeds"] == [0, 1, 2] and first["best_step"] == [30, 15, 30]
    assert first["best_val_loss"] == [0.60, 0.58, 0.59]
    assert first["test_loss"] == [0.50, 0.52, 0.47]  # not the test loss at seed 0's step
    assert first["sd_test_loss"] == pytest.approx(statistics.stdev([0.50, 0.52, 0.47]))
    # A seed whose curve has no finite validation loss is left out of the spread, not a 0.
    assert second["scored_seeds"] == [0, 1] and second["test_loss"] == [0.60, 0.58]
    spreads = [first["sd_test_loss"], second["sd_test_loss"]]
    assert result["sigma"] == pytest.approx(statistics.median(spreads))
    assert result["sd_test_loss"]["min"] == min(spreads)
    assert result["sd_test_loss"]["max"] == max(spreads)
    assert result["sd_val_loss"]["configurations"] == 2


def test_a_configuration_scored_with_one_seed_has_no_spread():
    one = table()
    one["replicates"] = [r for r in one["replicates"] if r["config"] == 1]
    one["replicates"][0]["evaluations"] = [{"step": 15, "val_loss": math.nan,
                                            "test_loss": math.nan}]
    result = noise_floor(one)
    assert result["configs"][0]["sd_test_loss"] is None
    assert result["sigma"] is None and result["sd_test_loss"] is None


def test_a_table_without_replicates_is_refused_with_what_to_run(tmp_path: Path):
    bare = table()
    del bare["replicates"]
    write_table(tmp_path / "t.json", bare["meta"], bare["configs"])
    with pytest.raises(SystemExit, match="curve_replicates"):
        main(["demo", "--table-file", str(tmp_path / "t.json"), "--smoke",
              "--work-dir", str(tmp_path)])


def test_the_command_writes_its_figures(tmp_path: Path, capsys: pytest.CaptureFixture):
    whole = table()
    write_table(tmp_path / "t.json", whole["meta"], whole["configs"], whole["replicates"])
    main(["demo", "--table-file", str(tmp_path / "t.json"), "--smoke", "--work-dir",
          str(tmp_path)])
    assert "noise floor sigma" in capsys.readouterr().out
    assert (tmp_path / "noise_floor_demo.json").exists()
