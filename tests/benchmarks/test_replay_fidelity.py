"""The replay benchmark decides with basin's own code: a replayed sweep and a real ``basin run``
over the same learning-curve table (its trainable answers with the tabulated curves) propose the
same configurations, stop the same trials at the same steps for the same reasons, and hand on
the same checkpoint; and changing a rule in the sweep file changes both the same way."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.curve_table import CurveTable
from benchmarks.replay.methods import basin_sweep
from benchmarks.replay.replayed import Setting
from benchmarks.replay.trainable import replay_function
from tests.benchmarks.synthetic_table import synthetic_table

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("local_ray")]

TRIALS = 6


def _real_sweep(table: CurveTable, overrides: dict, tmp_path: Path) -> dict:
    """A real basin run over the table (one trial at a time: Ray's timing cannot reorder
    anything), read back as basin reads any run directory."""
    from search.lifecycle.run import run_trials
    from search.store.reading import RunReading
    from search.store.rundir import RunDir

    spec = table.sweep_spec({**overrides, "output_dir": str(tmp_path / "runs"),
                             "search": {"num_trials": TRIALS, "max_concurrent_trials": 1,
                                        "seed": 0}})
    run = RunDir.create(spec)
    run_trials(spec, run, quiet=True, function=replay_function(table.path, time_scale=0.0))
    reading = RunReading(run)
    records = sorted(reading.records, key=lambda r: r.optuna_number)
    chosen = reading.choice().chosen
    by_id = {r.trial_id: r for r in records}
    return {
        "configs": [table.nearest(r.params) for r in records],
        "stopped": [(table.nearest(r.params), r.outcome.kind, r.outcome.step)
                    for r in records if r.outcome.status != "completed"],
        "pick": (table.nearest(by_id[chosen.trial_id].params), chosen.step),
    }


def _replayed(table: CurveTable, overrides: dict) -> dict:
    replayed = basin_sweep(overrides)(table, Setting(TRIALS, 1, 0), [1e9], "basin")
    return {"configs": replayed.configs, "stopped": replayed.stopped,
            "pick": tuple(replayed.pick)}


def test_replay_and_real_sweep_decide_alike(tmp_path: Path) -> None:
    table = CurveTable.load(synthetic_table(tmp_path / "table.json", count=16))
    asha = {"type": "asha", "grace_period": 60, "reduction_factor": 2}
    sweeps = {
        "shipped": {"stopping": {"gap": {"patience": 3, "grace_steps": 30}}, "scheduler": asha},
        "patience 1": {"stopping": {"gap": {"patience": 1, "grace_steps": 30}},
                       "scheduler": asha},
        "grace 30": {"stopping": {"gap": {"patience": 3, "grace_steps": 30}},
                     "scheduler": {**asha, "grace_period": 30}},
        "freeze": {"stopping": {"gap": None, "not_learning": None},
                   "scheduler": {"type": "freeze", "grace_period": 30, "reduction_factor": 2}},
    }
    outcomes = {}
    for name, overrides in sweeps.items():
        real = _real_sweep(table, overrides, tmp_path / name.replace(" ", "-"))
        simulated = _replayed(table, overrides)
        assert simulated == real, name
        outcomes[name] = {(config, kind, step) for config, kind, step in simulated["stopped"]}
    # Each change to the sweep file changes the decisions, as it does in the real sweep: a
    # less patient gap rule stops overfitting trials that ASHA stopped later before; an earlier
    # first rung cuts trials at step 30 that it let run to step 60.
    assert {kind for _, kind, _ in outcomes["shipped"]} == {"asha"}
    assert {(kind, step) for _, kind, step in outcomes["patience 1"]} >= {("gap", 45)}
    assert {step for _, _, step in outcomes["shipped"]} == {60}
    assert 30 in {step for _, _, step in outcomes["grace 30"]}
    # Frozen, not killed: every trial trains its whole budget, the losers after a thaw.
    assert outcomes["freeze"] == set()
