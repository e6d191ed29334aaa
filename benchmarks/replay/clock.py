"""Simulated time and spent steps: what a replayed sweep did when, and what it would have
handed on after each share of a step budget (the anytime curve)."""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(order=True)
class Event:
    """Something that happens to a trial at a simulated time (ties: the order they were
    scheduled in)."""

    time: float
    order: int
    trial_id: str = field(compare=False)
    kind: str = field(compare=False, default="report")


class Clock:
    """A queue of events in simulated time."""

    def __init__(self) -> None:
        self.now = 0.0
        self._queue: list[Event] = []
        self._order = itertools.count()

    def at(self, time: float, trial_id: str, kind: str = "report") -> None:
        heapq.heappush(self._queue, Event(time, next(self._order), trial_id, kind))

    def next(self) -> Event | None:
        if not self._queue:
            return None
        event = heapq.heappop(self._queue)
        self.now = event.time
        return event


class Budget:
    """Counts the optimizer steps a replayed sweep trained, as its trials report them, and
    takes what the method would hand on just before the count passes each threshold."""

    def __init__(self, thresholds: list[float], pick: Callable[[], Any]):
        self.steps = 0
        self.thresholds = list(thresholds)
        self.picks: list[Any] = []
        self._pick = pick

    def spend(self, steps: int) -> None:
        while len(self.picks) < len(self.thresholds) and \
                self.steps + steps > self.thresholds[len(self.picks)]:
            self.picks.append(self._pick())
        self.steps += steps

    def close(self) -> list[Any]:
        """Every threshold's pick: those the sweep never reached get its final pick."""
        final = self._pick()
        return self.picks + [final] * (len(self.thresholds) - len(self.picks))
