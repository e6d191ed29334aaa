"""The keep policy as the reports arrive (KeepAsReported, as Ray Tune calls it): the candidates
the policy drops lose their folders, and the resume checkpoints of an ended trial go only once Ray's
snapshot of that step is taken."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from ray.tune.experiment import Trial

from search.spec.model import SweepSpec
from search.store.rundir import RunDir
from search.tune.keep_as_reported import KeepAsReported
from search.tune.tuner import SNAPSHOT_PERIOD_ENV
from tests.conftest import tiny_sweep


def fake_trial(trial_id, status=Trial.RUNNING):
    return SimpleNamespace(trial_id=trial_id, config={"learning_rate": 0.01}, status=status)


def report(keeper, run, trial, step, val_loss, distinct=2):
    folder = run.path / trial.trial_id / "candidates" / f"step_{step:08d}"
    folder.mkdir(parents=True)
    (folder / "adapter_model.safetensors").write_bytes(b"weights")
    keeper.on_trial_result(0, [], trial, {"step": step, "val_loss": val_loss,
                                          "val_distinct_predictions": distinct})


def left(run, trial_id):
    return sorted(int(p.name.split("_")[1]) for p in (run.path / trial_id / "candidates").iterdir())


@pytest.fixture
def run(tmp_path):
    return RunDir(tmp_path / "run")


def keeper_for(run, tmp_path, **keep):
    return KeepAsReported(run, SweepSpec(**tiny_sweep(tmp_path, keep=keep)))


def test_dropped_candidates_lose_their_folders_as_the_reports_arrive(run, tmp_path):
    keeper = keeper_for(run, tmp_path, per_trial=1, best=2)
    a, b = fake_trial("a"), fake_trial("b")
    report(keeper, run, a, 4, 0.60)
    report(keeper, run, a, 8, 0.50)
    assert left(run, "a") == [4, 8]  # the sweep's best two
    report(keeper, run, b, 4, 0.55)
    assert left(run, "a") == [8] and left(run, "b") == [4]  # a@4: neither a's best nor top two
    report(keeper, run, a, 12, 0.40)
    assert left(run, "a") == [8, 12]
    report(keeper, run, b, 8, 0.45)
    assert left(run, "a") == [12] and left(run, "b") == [8]
    # A candidate that collapsed to one output is never among the sweep's best.
    report(keeper, run, b, 12, 0.10, distinct=1)
    assert left(run, "a") == [12] and left(run, "b") == [8, 12]


def test_keeping_everything_deletes_nothing(run, tmp_path):
    keeper = keeper_for(run, tmp_path, per_trial=None)
    trial = fake_trial("a")
    for step, loss in ((4, 0.6), (8, 0.5), (12, 0.7)):
        report(keeper, run, trial, step, loss)
    assert left(run, "a") == [4, 8, 12]


def with_resume_checkpoints(run, trial_id):
    """Ray's two latest, and a multi-worker trial's Ray Train checkpoint one folder down."""
    for name in ("checkpoint_000001", "checkpoint_000002", "train/checkpoint_000002"):
        (run.path / trial_id / name / "deepspeed").mkdir(parents=True)
        (run.path / trial_id / name / "deepspeed" / "state.pt").write_bytes(b"state")
    return lambda: sorted(p.relative_to(run.path / trial_id).as_posix()
                          for p in (run.path / trial_id).rglob("checkpoint_*"))


def test_an_ended_trials_resume_checkpoints_go_after_rays_snapshot(run, tmp_path, monkeypatch):
    keeper = keeper_for(run, tmp_path)
    ended, running = fake_trial("a", Trial.TERMINATED), fake_trial("b", Trial.RUNNING)
    paused = fake_trial("c", Trial.PAUSED)  # frozen: thawed later, from its checkpoint
    checkpoints = {t.trial_id: with_resume_checkpoints(run, t.trial_id)
                   for t in (ended, running, paused)}
    monkeypatch.delenv(SNAPSHOT_PERIOD_ENV, raising=False)  # Ray's own period: may lag
    keeper.on_step_end(1, [ended, running, paused])
    assert len(checkpoints["a"]()) == 3
    monkeypatch.setenv(SNAPSHOT_PERIOD_ENV, "0")  # fit: a snapshot in every step
    keeper.on_step_end(2, [ended, running, paused])
    assert checkpoints["a"]() == []
    assert len(checkpoints["b"]()) == len(checkpoints["c"]()) == 3


def test_a_run_in_an_object_store_leaves_them_to_the_last_pass(tmp_path, monkeypatch):
    run = RunDir(tmp_path / "mirror", remote="s3://bucket/runs/tiny")
    keeper = keeper_for(run, tmp_path)
    ended = fake_trial("a", Trial.TERMINATED)
    checkpoints = with_resume_checkpoints(run, "a")
    monkeypatch.setenv(SNAPSHOT_PERIOD_ENV, "0")
    keeper.on_step_end(1, [ended])
    assert len(checkpoints()) == 3


def test_a_report_of_how_a_trial_ended_is_no_candidate(run, tmp_path):
    keeper = keeper_for(run, tmp_path)
    nan = float("nan")
    keeper.on_trial_result(0, [], fake_trial("a"), {"step": nan, "val_loss": nan,
                                                    "outcome": "failed"})
    assert keeper.candidates == {}
