"""Ray Tune's restored experiment made to agree with itself on ``basin resume``.

Ray saves an experiment in three files: its trials (``experiment_state-*.json``), the search
generator's count of the trials it created (``search_gen_state-*.json``) and the searcher
(``searcher-state-*.pkl``). Each is whole (``search/tune/atomic_state.py``), but not the three
as a unit: Ray's syncer copies them from the driver's staging folder into the run directory
in a thread of its own, one after the other, while the loop goes on snapshotting, and a
driver killed then leaves files from two snapshots. Seen in CI
(test_frozen_trials_survive_a_killed_driver): the trials of one snapshot, the count and the
searcher of the next, which had asked for one more trial. Ray restored nine trials and a count
of ten, so it never created the tenth; the searcher kept that trial's Optuna trial running;
the resume ended with nine of ten trials, "interrupted".

What Ray will run is its trials; what Optuna was told is the study's journal. So after Ray has
restored, the count is set to Ray's trials and the searcher rebuilds its live trials from the
study and Ray's trials (``HonestOptunaSearch.adopt_ray_trials``): any mix of snapshots
resumes as the trials file says.
"""

from __future__ import annotations

from typing import Any

from ray.tune.execution.tune_controller import TuneController
from ray.tune.experiment import Trial
from ray.tune.search import SearchGenerator


def settle_restored_state() -> None:
    """Wrap ``TuneController.resume`` (once per process) so that what it restored agrees."""
    original = TuneController.resume
    if getattr(original, "_basin_settled", False):
        return

    def resume(self: TuneController, resume_config: Any) -> None:
        original(self, resume_config=resume_config)
        settle(self._search_alg, self._trials)

    resume._basin_settled = True  # type: ignore[attr-defined]
    resume._ray_original = original  # type: ignore[attr-defined]
    TuneController.resume = resume  # type: ignore[method-assign]


def settle(search_alg: Any, trials: list[Trial]) -> None:
    """Make the search generator's count and the searcher's live trials agree with the
    trials Ray restored (their statuses as Ray re-queued them: those it runs again are
    neither terminated nor errored)."""
    if isinstance(search_alg, SearchGenerator):
        # The count decides when Ray stops creating trials: one per trial it holds.
        search_alg._counter = len(trials)
    searcher = search_alg
    while hasattr(searcher, "searcher"):  # the generator and any wrappers around the searcher
        searcher = searcher.searcher
    if hasattr(searcher, "adopt_ray_trials"):
        resumed = {t.trial_id for t in trials if t.status not in (Trial.TERMINATED, Trial.ERROR)}
        searcher.adopt_ray_trials(resumed, {t.trial_id for t in trials})
