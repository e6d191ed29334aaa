"""The freeze ledger: which trials a freezing scheduler paused at a rung, which it thawed, and
every trial's score at every rung, appended to ``freezes.jsonl`` as it happens.

Ray Tune keeps no scheduler state across a driver crash (a paused trial comes back pending);
the scheduler rebuilds its rungs and its frozen trials from this file, the searcher counts the
trials that hold a slot with it, and the progress lines, records and trackers say from it which
trials were frozen and thawed, when and why.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

RUNG, FROZEN, THAWED = "rung", "frozen", "thawed"


@dataclass(frozen=True)
class FreezeEvent:
    """One entry: a trial's ``score`` (lower is better) at a ``rung``; or the trial frozen or
    thawed at ``step``, and why."""

    trial_id: str
    event: str
    step: int
    score: float | None = None
    reason: str = ""
    undecided: bool = False  # frozen while still within noise of its baseline
    # Compatibility: the curve basin 0.1's forecast thaw order kept with a freeze; read from
    # older ledgers and unused. Remove in basin 0.3.
    curve: list[list[float]] = field(default_factory=list)


class FreezeLedger:
    """Every freeze event of a sweep, in order, mirrored to a JSON-lines file (None: memory)."""

    def __init__(self, path: Path | None = None):
        self.path = path
        self.events: list[FreezeEvent] = []
        self._read()

    def _read(self) -> None:
        if self.path is None or not self.path.is_file():
            return
        events = []
        for line in self.path.read_text().splitlines():
            try:
                events.append(FreezeEvent(**json.loads(line)))
            except (json.JSONDecodeError, TypeError):
                continue  # a line cut short by a crash: that event happens again on resume
        self.events = events

    def refresh(self) -> None:
        """Take in what other copies appended (Ray pickles the searcher and the callbacks
        apart from the scheduler; they share the file)."""
        self._read()

    def _add(self, event: FreezeEvent) -> None:
        self.events.append(event)
        if self.path is not None:
            with self.path.open("a") as handle:
                entry = asdict(event)
                if not entry["curve"]:  # only a freeze carries one: keep the other lines short
                    del entry["curve"]
                handle.write(json.dumps(entry) + "\n")

    def rung(self, trial_id: str, rung: int, score: float) -> None:
        self._add(FreezeEvent(trial_id, RUNG, rung, score))

    def freeze(self, trial_id: str, step: int, reason: str, undecided: bool = False) -> None:
        self._add(FreezeEvent(trial_id, FROZEN, step, reason=reason, undecided=undecided))

    def thaw(self, trial_id: str, step: int, reason: str) -> None:
        self._add(FreezeEvent(trial_id, THAWED, step, reason=reason))

    def rung_scores(self, rung: int) -> dict[str, float]:
        """Every trial's score at ``rung``, by trial id."""
        return {e.trial_id: e.score for e in self.events if e.event == RUNG and e.step == rung}

    def rungs_of(self, trial_id: str) -> set[int]:
        return {e.step for e in self.events if e.event == RUNG and e.trial_id == trial_id}

    def frozen(self) -> dict[str, FreezeEvent]:
        """The trials frozen now (not thawed since), with the event that froze them."""
        now: dict[str, FreezeEvent] = {}
        for event in self.events:
            if event.event == FROZEN:
                now[event.trial_id] = event
            elif event.event == THAWED:
                now.pop(event.trial_id, None)
        return now

    def history(self, trial_id: str) -> list[FreezeEvent]:
        """A trial's freezes and thaws, oldest first."""
        return [e for e in self.events if e.trial_id == trial_id and e.event != RUNG]

    def __getstate__(self) -> dict:
        return {"path": self.path, "events": list(self.events)}
