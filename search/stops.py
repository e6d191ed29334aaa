"""Why each trial stopped early, kept by the driver and appended to ``stops.jsonl``.

The gap stopper writes here when it stops a trial; the searcher reads it to tell Optuna the
truth, and the results read it for the leaderboard. The file survives a driver crash.
"""

from __future__ import annotations

import json
from pathlib import Path


class StopLedger:
    """Trial id -> stop reason, mirrored to a JSON-lines file as each stop happens."""

    def __init__(self, path: Path | None = None):
        self.path = path
        self._reasons: dict[str, str] = {}
        if path is not None and path.is_file():
            for line in path.read_text().splitlines():
                if line.strip():
                    entry = json.loads(line)
                    self._reasons[entry["trial_id"]] = entry["reason"]

    def record(self, trial_id: str, reason: str) -> None:
        """Remember why ``trial_id`` was stopped (the first reason wins)."""
        if trial_id in self._reasons:
            return
        self._reasons[trial_id] = reason
        if self.path is not None:
            with self.path.open("a") as handle:
                handle.write(json.dumps({"trial_id": trial_id, "reason": reason}) + "\n")

    def reason(self, trial_id: str) -> str | None:
        return self._reasons.get(trial_id)

    def __getstate__(self) -> dict:
        # Ray pickles its stopper and searcher into experiment checkpoints; the reasons are
        # plain data, so the copy stays faithful.
        return {"path": self.path, "_reasons": dict(self._reasons)}


def trial_outcome(last_result: dict | None, error: bool, gap_reason: str | None) -> tuple[str, str]:
    """(status, reason) of a finished trial: completed, pruned (gap, ASHA, diverged) or failed.

    The trial's last report names a divergence or an error it caught; a Tune error means its
    process died. A trial that ended without its final report and without a gap stop was
    stopped by the scheduler.
    """
    outcome = (last_result or {}).get("outcome")
    if outcome == "diverged":
        return "pruned", f"diverged: {last_result.get('outcome_reason', '')}"
    if outcome == "failed" or error:
        reason = (last_result or {}).get("outcome_reason") if outcome else None
        return "failed", reason or "the trial's worker or node died"
    if gap_reason:
        return "pruned", gap_reason
    if not last_result or not last_result.get("is_final"):
        return "pruned", "asha: below its rung's cut-off"
    return "completed", ""
