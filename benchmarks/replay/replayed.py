"""What a replayed method hands back, and the size of one replayed sweep: the types every
replayed method (Ray Tune's loop, Optuna's, one-epoch) and the scoring share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from benchmarks.curve_table import CurveTable
    from benchmarks.replay.seed_draw import SeedDraw

# A pick: (curve, step) handed on as it is, or (curve, None) for a configuration trained once
# more to the full budget and scored at its best validation step. A curve is a configuration
# trained with one seed (benchmarks/curve_table.py): the seed the method saw, or for a
# configuration trained once more, one it did not see (benchmarks/replay/seed_draw.py).
Pick = tuple[int, "int | None"]


@dataclass
class Replayed:
    """What one method did on one replayed sweep."""

    method: str
    pick: Pick | None
    steps: int
    seconds: float
    anytime: list[Pick | None]
    stopped: list[tuple[int, str, int]] = field(default_factory=list)  # curve, kind, step
    configs: list[int] = field(default_factory=list)  # every trial's configuration
    # Every trial's end, in the order the trials were asked for: (config, kind, step).
    ended: list[tuple[int, str, int | None]] = field(default_factory=list)
    extra: dict = field(default_factory=dict)  # a method's own figures for its results row


@dataclass(frozen=True)
class Setting:
    """One replayed sweep's size: trials, trials at a time, the search seed; and whether a
    table's seed replicates answer its visits (off: every visit sees the table's own seed, as
    a real run over the table does in the fidelity check)."""

    trials: int
    concurrency: int
    seed: int
    seed_draws: bool = True

    def draw(self, table: CurveTable) -> SeedDraw | None:
        """This sweep's draw of seeds over ``table`` (None: seed 0 only)."""
        from benchmarks.replay.seed_draw import SeedDraw

        return SeedDraw(table, self.seed) if self.seed_draws else None
