"""What a replayed method hands back, and the size of one replayed sweep: the types every
replayed method (Ray Tune's loop, Optuna's, one-epoch) and the scoring share."""

from __future__ import annotations

from dataclasses import dataclass, field

# A pick: (configuration, step) handed on as it is, or (configuration, None) for a
# configuration trained once more to the full budget and scored at its best validation step.
Pick = tuple[int, "int | None"]


@dataclass
class Replayed:
    """What one method did on one replayed sweep."""

    method: str
    pick: Pick | None
    steps: int
    seconds: float
    anytime: list[Pick | None]
    stopped: list[tuple[int, str, int]] = field(default_factory=list)  # config, kind, step
    configs: list[int] = field(default_factory=list)  # every trial's configuration
    # Every trial's end, in the order the trials were asked for: (config, kind, step).
    ended: list[tuple[int, str, int | None]] = field(default_factory=list)


@dataclass(frozen=True)
class Setting:
    """One replayed sweep's size: trials, trials at a time, the search seed."""

    trials: int
    concurrency: int
    seed: int
