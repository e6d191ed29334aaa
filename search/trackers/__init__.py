"""Trackers: where every trial of a sweep is recorded as it runs (``base.py`` says what a tracker
is; ``callback.py`` feeds them from Ray Tune, ``background.py`` off Tune's loop). Today:
Weights & Biases (``wandb.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from search.trackers.background import BackgroundTracker
from search.trackers.base import SweepSummary, Tracker
from search.trackers.wandb import WandbTracker

if TYPE_CHECKING:
    from search.spec.model import SweepSpec
    from search.store.rundir import RunDir


def make_trackers(spec: SweepSpec, run: RunDir, quiet: bool = False, job_type: str = "trial"
                  ) -> list[Tracker]:
    """The trackers the sweep file switches on (W&B unless its mode is ``disabled``);
    ``job_type`` says what their runs are (``confirm``: basin confirm's re-trainings)."""
    from search.core.console import make_console

    fixed = spec.model_dump(mode="json", exclude={"space"})
    trackers: list[Tracker] = []
    if spec.tracking.wandb.mode != "disabled":
        # Written from a thread of its own: W&B's run files never hold up Tune's loop.
        trackers.append(BackgroundTracker(WandbTracker(
            spec.tracking.wandb, run.path, group=run.path.name, fixed_config=fixed,
            objective=spec.objective.metric, console=None if quiet else make_console(),
            job_type=job_type)))
    return trackers


__all__ = ["BackgroundTracker", "SweepSummary", "Tracker", "WandbTracker", "make_trackers"]
