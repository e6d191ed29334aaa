"""A trial the driver started in its last moment, before Ray recorded it (an orphan), leaves an
offline W&B run that no trial of the resumed sweep continues: at the sweep's end it moves out of
what ``wandb sync`` uploads, and the sweep's trials keep theirs."""

from __future__ import annotations

from search.core.outcome import Outcome
from search.trackers.base import SweepSummary, TrackerContext
from search.trackers.wandb import WandbSpec, WandbTracker
from search.trackers.wandb_runs import run_id
from tests.wandb_runs import read_offline_runs


def test_an_orphans_offline_run_is_set_aside_at_the_sweeps_end(tmp_path, monkeypatch):
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    context = TrackerContext(run_path=tmp_path, group="g", fixed_config={}, objective="val_loss")
    tracker = WandbTracker(WandbSpec(mode="offline"), context)
    for trial_id in ("kept", "orphan"):
        tracker.trial_started(trial_id, {"learning_rate": 0.1})
        tracker.trial_result(trial_id, {"step": 4, "val_loss": 0.5})
    tracker.trial_ended("kept", Outcome(status="completed", kind="finished"), {"step": 4})
    tracker.close()  # the driver stops: the runs still open end

    tracker.sweep_ended(SweepSummary(columns=["trial_id"], rows=[["kept"]], chosen=None,
                                     why="best", orphans=["orphan"]))

    runs = read_offline_runs(tmp_path / "wandb")
    assert sorted((r.job_type, r.run_id) for r in runs) == [
        ("sweep", run_id("g", "sweep")), ("trial", run_id("g", "kept"))]
    (aside,) = (tmp_path / "wandb" / "orphaned").iterdir()
    assert aside.name.endswith(run_id("g", "orphan"))
    assert not list((tmp_path / "wandb").glob(f"offline-run-*-{run_id('g', 'orphan')}"))


def test_a_sweep_without_orphans_moves_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    context = TrackerContext(run_path=tmp_path, group="g", fixed_config={}, objective="val_loss")
    tracker = WandbTracker(WandbSpec(mode="offline"), context)
    tracker.trial_started("kept", {})
    tracker.trial_ended("kept", Outcome(status="completed", kind="finished"), {"step": 4})
    tracker.sweep_ended(SweepSummary(columns=[], rows=[], chosen=None, why="best"))
    assert not (tmp_path / "wandb" / "orphaned").exists()
    assert len(read_offline_runs(tmp_path / "wandb")) == 2
