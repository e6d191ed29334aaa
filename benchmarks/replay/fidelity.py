"""How far the simulated Tune loop agrees with a real ``basin run`` over the same table when
trials run side by side: real Ray Tune, its trainable answering with the table's curves and
sleeping the table's seconds scaled down, against the replay of the same sweep.

With one trial at a time the two must agree exactly (``tests/benchmarks/test_replay_fidelity.py``).
With several, the order in which reports reach the driver decides ASHA's cut-offs and TPE's
next suggestion; real time is noisy, so agreement is measured, not assumed.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from benchmarks.curve_table import CurveTable
from benchmarks.replay.methods import basin_sweep
from benchmarks.replay.replayed import Setting


def real_sweep(table: CurveTable, setting: Setting, time_scale: float, work_dir: Path
               ) -> list[tuple[int, str, int | None]]:
    """A real basin run over the table: each trial's (configuration, outcome kind, step), in
    the order Optuna asked for them."""
    from benchmarks.replay.trainable import replay_function
    from search.lifecycle.run import run_trials
    from search.store.records import collect_records
    from search.store.rundir import RunDir

    spec = table.sweep_spec({"output_dir": str(work_dir / "runs"),
                             "search": {"num_trials": setting.trials, "seed": setting.seed,
                                        "max_concurrent_trials": setting.concurrency}})
    run = RunDir.create(spec)
    run_trials(spec, run, quiet=True, function=replay_function(table.path, time_scale))
    records = sorted(collect_records(run), key=lambda r: r.optuna_number)
    return [(table.nearest(r.params), r.outcome.kind, r.outcome.step) for r in records]


def replayed_sweep(table: CurveTable, setting: Setting) -> list[tuple[int, str, int | None]]:
    """The replay of the same sweep: the same list (seed 0 answers every visit, as the real
    run's trainable reports the table's own curves)."""
    seed_zero = Setting(setting.trials, setting.concurrency, setting.seed, seed_draws=False)
    return basin_sweep({})(table, seed_zero, [1e18], "basin").ended


def agreement(table: CurveTable, seeds: list[int], trials: int = 20, concurrency: int = 2,
              time_scale: float = 0.02) -> dict[str, Any]:
    """Per seed, the share of trials (by Optuna's number) whose configuration, outcome kind and
    stop step agree between the real run and the replay."""
    import ray

    from search.tune.cluster import start_ray

    start_ray()
    rows = []
    for seed in seeds:
        setting = Setting(trials, concurrency, seed)
        with tempfile.TemporaryDirectory() as folder:
            real = real_sweep(table, setting, time_scale, Path(folder))
        simulated = replayed_sweep(table, setting)
        same = sum(a == b for a, b in zip(real, simulated))
        first = next((i for i, (a, b) in enumerate(zip(real, simulated)) if a != b), None)
        rows.append({"seed": seed, "trials": len(real), "agree": same,
                     "first_difference": first, "real": real, "replayed": simulated})
    ray.shutdown()
    return {"table": table.name, "trials": trials, "concurrency": concurrency,
            "time_scale": time_scale, "seeds": rows}
