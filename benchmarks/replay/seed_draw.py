"""Which training seed answers a replayed trial (RESULTS.md, "How sure is the hand-over?").

A table whose configurations were trained again with other seeds (``curve_replicates.py``)
answers a visit to such a configuration with one of its seeds' curves, drawn with the replay's
seed and the visit's number; a configuration visited again sees a seed it has not seen while
one is left. So a method that re-runs a configuration meets another seed, as it would in real
training, and what it hands on is scored on the seed it saw. A method that hands on a
configuration to be trained once more is scored on a seed it did not see. A configuration
without replicates has only the table's own seed, and a table without replicates replays
exactly as before.
"""

from __future__ import annotations

import random

from benchmarks.curve_table import CurveTable


class SeedDraw:
    """The seeds one replayed sweep has seen, per configuration, and the draw of the next."""

    def __init__(self, table: CurveTable, replay_seed: int):
        self.table = table
        self.replay_seed = replay_seed
        self.visits = 0
        self.seen: dict[int, set[int]] = {}

    def visit(self, config: int) -> int:
        """The curve that answers a visit to ``config``: one of its seeds not seen yet (any of
        them once all were), drawn with the replay's seed and this visit's number."""
        self.visits += 1
        seeds = self.table.seeds(config)
        if len(seeds) == 1:
            return config
        seen = self.seen.setdefault(config, set())
        fresh = sorted(set(seeds) - seen) or sorted(seeds)
        seed = random.Random(f"{self.replay_seed}:{self.visits}").choice(fresh)
        seen.add(seed)
        return seeds[seed]

    def retrained(self, curve: int) -> int:
        """The curve that scores ``curve``'s configuration trained once more: the lowest seed
        this sweep did not see, else the seed after ``curve``'s (the same curve where the
        configuration has one seed)."""
        config = self.table.config_of[curve]
        seeds = self.table.seeds(config)
        fresh = sorted(set(seeds) - self.seen.get(config, {self.table.seed_of[curve]}))
        if fresh:
            return seeds[fresh[0]]
        ordered = sorted(seeds)
        return seeds[ordered[(ordered.index(self.table.seed_of[curve]) + 1) % len(ordered)]]
