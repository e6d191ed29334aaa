"""Trackers: where every trial of a sweep is recorded as it runs (``base.py`` says what a tracker
is; ``search/tune/tracker_callback.py`` feeds them from Ray Tune, ``background.py`` off Tune's
loop). Today: Weights & Biases (``wandb.py``).

A new tracker is one file here (its settings model, a ``TrackerSettings`` that builds it, and the
tracker) and one field below, its registration: everything that makes trackers reads them off
``TrackingSpec`` (``search/lifecycle/tracking.py``).
"""

from __future__ import annotations

from search.trackers.base import TrackerSettings
from search.trackers.wandb import WandbSpec
from trainables.settings import Strict


class TrackingSpec(Strict):
    """The sweep file's ``tracking`` block: one field per tracker."""

    wandb: WandbSpec = WandbSpec()

    def all(self) -> dict[str, TrackerSettings]:
        """Every tracker's settings, by its name in the sweep file."""
        return {name: getattr(self, name) for name in type(self).model_fields}


TRACKER_NAMES: tuple[str, ...] = tuple(TrackingSpec.model_fields)
