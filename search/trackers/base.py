"""What a tracker is: somewhere every trial of a sweep is recorded as it runs, plus a summary of
the sweep at its end. W&B is one (``wandb.py``); MLflow or TensorBoard would be another file
beside it: its settings model (a ``TrackerSettings``, which builds the tracker) and one field in
``TrackingSpec`` (``search/trackers/__init__.py``).

A tracker knows nothing of Ray nor of the run directory's layout:
``search/tune/tracker_callback.py`` turns Tune's events into these calls, with each trial's
``Outcome`` (status, kind, reason, step) already decided, and ``TrackerContext`` hands it what
it needs of the sweep. A tracker's trouble
must never fail a sweep: implementations guard their own calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar

from rich.console import Console

from search.core.outcome import Outcome
from trainables.settings import Strict


@dataclass
class SweepSummary:
    """What a tracker records when the sweep ends: the leaderboard as data (one row per trial,
    in the order of the choice), the chosen checkpoint and why, and the plots."""

    columns: list[str]
    rows: list[list[Any]]
    chosen: dict[str, Any] | None
    why: str
    plots: list[Path] = field(default_factory=list)
    # How sure the choice is (search/selection/noise.py: Closeness.as_dict), None if unchosen.
    noise: dict[str, Any] | None = None
    # Trials a crashed driver asked for that Ray never recorded (search/store/records.py:
    # orphans_of): not part of the sweep, though a tracker may have a run of one already.
    orphans: list[str] = field(default_factory=list)


class Tracker:
    """Base of every tracker; each method is a no-op unless a tracker needs it."""

    def announce(self) -> None:
        """Say once, when the sweep starts, where the records go."""

    def trial_started(self, trial_id: str, config: dict[str, Any]) -> None:
        """A trial began with these hyperparameters."""

    def trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        """A trial reported an evaluation (the metric names of ``trainables.contract``)."""

    def trial_ended(self, trial_id: str, outcome: Outcome, last_result: dict[str, Any]) -> None:
        """A trial ended; ``outcome`` says how."""

    def trial_checked(self, trial_id: str, config: dict[str, Any], outcome: Outcome,
                      last_result: dict[str, Any], figures: dict[str, Any]) -> None:
        """``basin check`` measured some of an ended trial's checkpoints: ``figures`` by
        ``step_<step>`` (basin radius, drift...) join its summary."""

    def sweep_ended(self, summary: SweepSummary) -> None:
        """The sweep ended and its choice is made."""

    def close(self) -> None:
        """Finish whatever is still open (the sweep was interrupted)."""

    def closing_note(self) -> str | None:
        """One line for the user once the sweep is over (e.g. how to upload), or None."""
        return None


# Added to a trial's last result for ``trial_ended`` under a freezing scheduler: the trial's
# pauses and thaws, oldest first ({event, step, reason}).
FREEZES = "freezes"


def no_history(trial_id: str) -> list[dict[str, Any]]:
    """No reports to read back (a tracker made without a run directory's)."""
    return []


@dataclass
class TrackerContext:
    """What a tracker is told of the sweep it records: where the run directory is (its files go
    inside), the sweep's name (``group``), its fixed settings, the objective, where to print
    (None: quiet), what its runs are (``job_type``: ``trial``, or ``confirm`` for basin
    confirm's re-trainings) and how to read back what a trial reported so far (``history``)."""

    run_path: Path
    group: str
    fixed_config: dict[str, Any]
    objective: str
    console: Console | None = None
    job_type: str = "trial"
    history: Callable[[str], list[dict[str, Any]]] = field(default_factory=lambda: no_history)


class TrackerSettings(Strict):
    """Base of every tracker's settings model (a field of ``TrackingSpec``): whether the sweep
    file switches it on, and the tracker it makes."""

    # The block's settings that ``enabled: false`` in the sweep file stands for.
    OFF: ClassVar[dict[str, Any]] = {}

    @property
    def enabled(self) -> bool:
        raise NotImplementedError

    def build(self, context: TrackerContext) -> Tracker:
        """The tracker these settings describe, for one sweep."""
        raise NotImplementedError
