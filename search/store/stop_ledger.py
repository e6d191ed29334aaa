"""The stop ledger: which stopping rule ended each trial, kept by the driver and appended to
``stops.jsonl`` as each stop happens.

The rule stopper writes an ``Outcome`` here when a rule stops a trial; the searcher reads it to
tell Optuna the truth, the trackers to label the trial. The file survives a driver crash.
"""

from __future__ import annotations

import json
from pathlib import Path

from search.core.outcome import Outcome


class StopLedger:
    """Trial id -> the outcome a stopping rule decided, mirrored to a JSON-lines file."""

    def __init__(self, path: Path | None = None):
        self.path = path
        self._decisions: dict[str, Outcome] = {}
        self._read()

    def _read(self) -> None:
        """Take in what the file holds (the first decision per trial wins)."""
        if self.path is None or not self.path.is_file():
            return
        for line in self.path.read_text().splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a crash: that stop is re-decided on resume
            self._decisions.setdefault(entry["trial_id"], Outcome.from_dict(entry))

    def record(self, trial_id: str, decision: Outcome) -> None:
        """Remember why ``trial_id`` was stopped (the first decision wins)."""
        if trial_id in self._decisions:
            return
        self._decisions[trial_id] = decision
        if self.path is not None:
            with self.path.open("a") as handle:
                handle.write(json.dumps({"trial_id": trial_id, **decision.as_dict()}) + "\n")

    def decision(self, trial_id: str) -> Outcome | None:
        """The decision a rule took for ``trial_id``, or None. After ``basin resume`` the
        stopper, the searcher and the callbacks hold separate copies (Ray pickles them apart),
        so a decision missing here is looked up in the file, which they all share."""
        if trial_id not in self._decisions:
            self._read()
        return self._decisions.get(trial_id)

    def __getstate__(self) -> dict:
        # Ray pickles its stopper and searcher into experiment checkpoints; the decisions are
        # plain data, so the copy stays faithful.
        return {"path": self.path, "_decisions": dict(self._decisions)}
