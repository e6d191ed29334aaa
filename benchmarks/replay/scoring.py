"""What a replayed sweep is scored by: the test figures of what it handed on (read from the
table, which no method saw), its regret, the steps it spent, and the winners it lost."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from benchmarks.curve_table import CurveTable
from benchmarks.replay.replayed import Pick, Replayed, Setting

ANYTIME_SHARES = tuple(round(0.1 * k, 1) for k in range(1, 11))


def test_of(table: CurveTable, pick: Pick | None) -> dict[str, float] | None:
    """The test loss and the task's test figure of a pick: the checkpoint as it is, or a
    configuration trained once more and scored at its best validation step."""
    if pick is None:
        return None
    config, step = pick
    step = table.best_val_step(config) if step is None else step
    if step is None:
        return None
    row = table.row_at(config, step)
    return {"test_loss": row["test_loss"], "test_figure": row.get(table.test_figure, math.nan)}


def regret(table: CurveTable, pick: Pick | None) -> float | None:
    """Test loss of the pick minus that of the table's best-validation checkpoint."""
    scored = test_of(table, pick)
    if scored is None:
        return None
    config, step = table.oracle()
    return scored["test_loss"] - table.row_at(config, step)["test_loss"]


def lost_winners(table: CurveTable, replayed: Replayed) -> dict[str, dict[str, int]]:
    """Of the trials a rule or scheduler ended early, those whose configuration is in the
    table's top 5% at full budget, by rule: ``ended`` (any early end) and ``lost`` (ended
    before the step of its best validation loss on the seed it saw, so its best checkpoint was
    never made)."""
    top = table.top_configs()
    ended, lost = Counter(), Counter()
    for curve, kind, step in replayed.stopped:
        if table.config_of[curve] not in top:
            continue
        ended[kind] += 1
        best = table.best_val_step(curve)
        if best is not None and step < best:
            lost[kind] += 1
    return {"ended": dict(ended), "lost": dict(lost)}


def row_of(table: CurveTable, setting: Setting, replayed: Replayed) -> dict[str, Any]:
    """One replayed sweep as a row of the results file."""
    full = setting.trials * table.spec.training.max_steps
    scored = test_of(table, replayed.pick) or {}
    retrained = replayed.pick is not None and replayed.pick[1] is None
    return {
        "table": table.name, "method": replayed.method, "trials": setting.trials,
        "concurrency": setting.concurrency, "seed": setting.seed,
        # The configuration and step handed on, and the seed it is scored on.
        "pick": [table.config_of[replayed.pick[0]], replayed.pick[1]] if replayed.pick else None,
        "pick_seed": table.seed_of[replayed.pick[0]] if replayed.pick else None,
        "regret": _round(regret(table, replayed.pick)),
        "test_loss": _round(scored.get("test_loss")),
        "test_figure": _round(scored.get("test_figure")),
        "steps": replayed.steps, "steps_share": round(replayed.steps / full, 4),
        "retrain_steps": table.spec.training.max_steps if retrained else 0,
        "sim_seconds": round(replayed.seconds, 1),
        "anytime": [_round(regret(table, pick)) for pick in replayed.anytime],
        "stopped": dict(Counter(kind for _, kind, _ in replayed.stopped)),
        "winners": lost_winners(table, replayed),
        "distinct_configs": len(set(replayed.configs)),
        **replayed.extra,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else float(f"{value:.6g}")
