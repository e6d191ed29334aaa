"""Equivalence verdicts over replayed sweeps (benchmarks/replay/verdicts.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.replay.verdicts import (
    BETTER,
    CANNOT_TELL,
    EQUIVALENT,
    WORSE,
    compare,
    margins,
    verdict,
    verdict_report,
    verdict_rows,
)


@pytest.mark.parametrize(("low", "high", "expected"), [
    (-0.009, 0.009, EQUIVALENT),   # inside the margin on both sides
    (-0.008, -0.002, EQUIVALENT),  # below 0 but within the margin: no difference that matters
    (-0.030, -0.012, BETTER),
    (-0.030, -0.001, BETTER),      # below 0, reaching past the margin
    (0.002, 0.030, WORSE),
    (-0.020, 0.020, CANNOT_TELL),  # crosses 0 and reaches past the margin
    (-0.010, 0.005, CANNOT_TELL),  # touches the margin: not strictly inside
])
def test_the_verdict_of_an_interval(low: float, high: float, expected: str) -> None:
    assert verdict(low, high, margin=0.010) == expected


def test_a_comparison_needs_two_seeds() -> None:
    assert compare([0.01], 0.01) is None
    found = compare([-0.05, -0.04, -0.06, -0.05], margin=0.01)
    assert found["verdict"] == BETTER and found["seeds"] == 4
    assert found["lo"] <= found["d"] <= found["hi"] < 0


def row(method: str, seed: int, regret: float, anytime: list[float | None],
        table: str = "sst2") -> dict:
    return {"table": table, "trials": 10, "concurrency": 2, "method": method, "seed": seed,
            "regret": regret, "anytime": anytime, "steps_share": 0.4}


def rows_of(table: str = "sst2") -> list[dict]:
    rows = []
    for seed in range(20):
        jitter = 0.001 * (seed % 3)
        rows.append(row("random", seed, 0.030 + jitter, [None] * 5 + [0.03] * 5, table))
        # Better by 0.02 at its end; at 30% of the budget its pick is as good as random's end.
        rows.append(row("basin", seed, 0.010 + jitter,
                        [None, None, 0.031 + jitter] + [0.010 + jitter] * 7, table))
        rows.append(row("lucky", seed, 0.030 + (0.04 if seed % 2 else -0.04), [0.1] * 10, table))
    return rows


def test_verdicts_per_cell_with_the_steps_to_match_the_reference() -> None:
    found = {r["method"]: r for r in verdict_rows(rows_of(), {"sst2": 0.005}, "random")}
    assert set(found) == {"basin", "lucky"}
    assert found["basin"]["verdict"] == BETTER
    assert found["basin"]["d"] == pytest.approx(-0.02)
    assert found["basin"]["steps_to_match"] == 0.3
    assert found["lucky"]["verdict"] == CANNOT_TELL and found["lucky"]["steps_to_match"] is None
    # A wider margin makes the small difference one that does not matter.
    wide = {r["method"]: r for r in verdict_rows(rows_of(), {"sst2": 0.05}, "random")}
    assert wide["basin"]["verdict"] == EQUIVALENT


def test_a_table_without_a_noise_floor_gets_no_verdicts(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "noise_floor_sst2.json").write_text(json.dumps({"sigma": 0.012}))
    (tmp_path / "noise_floor_demo.json").write_text(json.dumps({"sigma": None}))
    found = margins(["sst2", "demo", "smollm2"], tmp_path)
    assert found == {"sst2": 0.012}
    text = verdict_report(rows_of("sst2") + rows_of("smollm2"), found)
    assert "no verdicts, for: smollm2" in text
    assert "sst2 10x2 | basin" in text and "smollm2 10x2" not in text


def test_point_3_is_compared_on_the_seeds_every_confirm_could_replay() -> None:
    from benchmarks.replay.verdicts import confirm_rows

    rows = []
    for seed in range(12):
        rows.append(row("basin", seed, 0.030, [0.03] * 10))
        status = "no replicates" if seed < 2 else "confirmed" if seed % 2 else "no room"
        for method, regret in (("basin-confirm-2x2", 0.020), ("basin-confirm-3x1", 0.030)):
            rows.append({**row(method, seed, regret + 0.0001 * (seed % 3), [0.03] * 10),
                         "confirm": {"status": status, "changed": status == "confirmed"}})
        rows.append(row("basin-one-se", seed, 0.050, [0.05] * 10))
    rows.append({**row("basin-confirm-3x1", 12, 0.0, [0.0] * 10),
                 "confirm": {"status": "no replicates"}})  # only one variant: left out
    found = {r["method"]: r for r in confirm_rows(rows, {"sst2": 0.005})}
    assert set(found) == {"basin-confirm-2x2", "basin-confirm-3x1", "basin-one-se"}
    assert {r["seeds"] for r in found.values()} == {10}  # seeds 2-11
    assert found["basin-confirm-2x2"]["statuses"] == {"no replicates": 2, "confirmed": 5,
                                                     "no room": 5}
    assert found["basin-confirm-2x2"]["changed"] == 5
    assert found["basin-confirm-2x2"]["compared"]["verdict"] == BETTER
    assert found["basin-confirm-3x1"]["compared"]["verdict"] == EQUIVALENT
    assert found["basin-one-se"]["compared"]["verdict"] == WORSE
    assert "point 3 on the seeds every confirm could replay" in verdict_report(
        rows, {"sst2": 0.005})
