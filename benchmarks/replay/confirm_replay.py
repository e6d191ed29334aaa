"""``basin confirm`` replayed (RESULTS.md, "How sure is the hand-over?", point 3): after a
replayed basin sweep, its top K candidates (distinct recipes, as ``Choice.leaders`` gives them)
are each trained again with S seeds the sweep did not see, to the candidate's step, and the one
with the best mean objective over those seeds is handed on: its checkpoint from the sweep,
scored on the seed the sweep saw, as ``basin confirm``'s winner is.

The confirm may spend at most a quarter of the sweep's steps: S x the sum of the candidates'
steps. Where K candidates do not fit, fewer do (at least two); where two do not, nothing is
confirmed and the sweep's own choice is handed on ("no room"). A table answers a seed only where
it has that configuration's replicates: a candidate without S unseen seeds cannot be confirmed
by the replay, and the sweep says so ("no replicates") rather than confirm on fewer seeds.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from benchmarks.curve_table import CurveTable
from benchmarks.replay.replayed import Pick
from benchmarks.replay.seed_draw import SeedDraw

SHARE = 0.25  # of the sweep's spent steps, at most
CONFIRMED, NO_ROOM, NO_REPLICATES, NOTHING = ("confirmed", "no room", "no replicates",
                                              "nothing chosen")


def fitting(steps: list[int], seeds: int, spent: int) -> int:
    """How many of the leaders (their steps, best first) fit the budget: the most, at least
    two, whose seeds x steps stay within ``SHARE`` of ``spent``; 0 when two do not."""
    for count in range(len(steps), 1, -1):
        if seeds * sum(steps[:count]) <= SHARE * spent:
            return count
    return 0


def new_seed_curves(table: CurveTable, draw: SeedDraw | None, curve: int, seeds: int
                    ) -> list[int]:
    """The curves of ``seeds`` seeds of ``curve``'s configuration the sweep did not see, the
    lowest first (fewer where the table has fewer; no draw: the sweep saw seed 0 only)."""
    config = table.config_of[curve]
    by_seed = table.seeds(config)
    seen = (draw.seen if draw else {}).get(config, {table.seed_of[curve]})
    return [by_seed[seed] for seed in sorted(set(by_seed) - seen)][:seeds]


def confirmed_pick(table: CurveTable, draw: SeedDraw | None, leaders: list[tuple[int, int]],
                   top: int, seeds: int, spent: int, metric: str, mode: str
                   ) -> tuple[Pick | None, dict[str, Any]]:
    """The pick after confirming ``leaders`` ((curve, step), best first; the first is the
    sweep's choice) and what the confirm did: its status, candidates, seeds and steps."""
    if not leaders:
        return None, {"status": NOTHING, "steps": 0}
    count = fitting([step for _, step in leaders[:top]], seeds, spent)
    if count == 0:
        return leaders[0], {"status": NO_ROOM, "steps": 0}
    chosen = leaders[:count]
    curves = [new_seed_curves(table, draw, curve, seeds) for curve, _ in chosen]
    if any(len(found) < seeds for found in curves):
        return leaders[0], {"status": NO_REPLICATES, "steps": 0, "candidates": count}
    sign = 1 if mode == "min" else -1

    def mean(found: list[int], step: int) -> float:
        values = [table.row_at(curve, step)[metric] for curve in found
                  if any(row["step"] == step for row in table.curves[curve]["evaluations"])]
        finite = [value for value in values if math.isfinite(value)]
        return sign * statistics.fmean(finite) if len(finite) == len(found) else math.inf

    means = [mean(found, step) for found, (_, step) in zip(curves, chosen)]
    winner = min(range(count), key=lambda i: (means[i], i))
    return chosen[winner], {"status": CONFIRMED, "candidates": count, "seeds": seeds,
                            "steps": seeds * sum(step for _, step in chosen),
                            "changed": winner != 0}
