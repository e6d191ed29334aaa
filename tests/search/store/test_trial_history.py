"""A trial's curve as read from Ray's result.json: a report cut short by a crash ends it, a
repeated last report counts once, and a trial trained again from step 0 (its checkpoint was
gone) replaces its first run's reports."""

from __future__ import annotations

import json

from search.store.trial_folder import history


def folder_with(tmp_path, *reports, tail=""):
    (tmp_path / "result.json").write_text(
        "".join(json.dumps(report) + "\n" for report in reports) + tail)
    return tmp_path


def test_a_repeated_last_report_counts_once_and_a_torn_line_ends_the_curve(tmp_path):
    folder = folder_with(tmp_path, {"step": 4, "val_loss": 0.6}, {"step": 8, "val_loss": 0.5},
                         {"step": 8, "val_loss": 0.5}, tail='{"step": 12, "val_')
    assert history(folder) == [{"step": 4, "val_loss": 0.6}, {"step": 8, "val_loss": 0.5}]


def test_a_trial_trained_again_from_the_start_replaces_its_first_run(tmp_path):
    first = [{"step": s, "val_loss": 1.0, "run": 1} for s in (4, 8, 12)]
    second = [{"step": s, "val_loss": 0.9, "run": 2} for s in (4, 8, 12, 16)]
    assert history(folder_with(tmp_path, *first, *second)) == second


def test_a_trial_resumed_from_an_older_checkpoint_keeps_the_steps_before_it(tmp_path):
    # The snapshot named the step-8 checkpoint; steps 12 and 16 were reported before the kill.
    reports = [{"step": s, "run": 1} for s in (4, 8, 12, 16)] + [
        {"step": s, "run": 2} for s in (12, 16, 20)]
    assert [(r["step"], r["run"]) for r in history(folder_with(tmp_path, *reports))] == [
        (4, 1), (8, 1), (12, 2), (16, 2), (20, 2)]
