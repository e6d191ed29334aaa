"""The leaderboard, results.json and the recipe of the chosen checkpoint, on hand-made records."""

from __future__ import annotations

import json
from dataclasses import replace

from search.report.results import leaderboard_rows, ordered, recipe, write_results
from search.selection import ObjectiveCriterion
from search.selection.choice import choose
from search.spec.model import load_spec, trial_settings, validate_spec
from search.store.reading import RunReading
from search.store.rundir import RunDir
from tests.search.selection.test_selection import RECORDS
from trainables.fingerprint import library_versions, recipe_hash
from trainables.settings import Hyperparameters


def the_choice():
    return choose(RECORDS, ObjectiveCriterion(), "val_loss", "min")


def test_trials_are_ordered_by_their_best_candidate_then_running_then_left_out():
    assert [r.trial_id for r in ordered(RECORDS, the_choice())] == [
        "overfit", "cut", "full", "live", "broken", "idle", "nan"]


def test_leaderboard_rows_hold_each_trial_at_its_best_ranked_step(sweep_factory):
    spec = load_spec(sweep_factory())
    columns, rows = leaderboard_rows(RECORDS, the_choice(), spec)
    assert columns == ["trial", "lr", "r", "step", "val_loss", "train_eval_loss", "gap",
                       "last step", "status"]
    first = dict(zip(columns, rows[0]))
    assert first == {"trial": "overfit", "lr": 0.001, "r": 4, "step": 20, "val_loss": 0.47,
                     "train_eval_loss": 0.47 - 0.2, "gap": 0.2, "last step": 30,
                     "status": "stopped: gap"}
    left_out = dict(zip(columns, rows[-1]))
    assert left_out["trial"] == "nan" and left_out["step"] is None
    assert left_out["status"] == "pruned: diverged"


def test_the_leaderboard_shows_the_task_s_own_figure_where_trials_report_it(sweep_factory):
    spec = load_spec(sweep_factory())  # classification: its figure is the validation accuracy
    scored = [replace(r, evaluations=[{**row, "val_accuracy": 0.75} for row in r.evaluations])
              for r in RECORDS]
    columns, rows = leaderboard_rows(scored, the_choice(), spec)
    assert columns[columns.index("gap") + 1] == "val_accuracy"
    assert dict(zip(columns, rows[0]))["val_accuracy"] == 0.75
    # Objective val_accuracy: it is the objective's column, not shown twice.
    by_accuracy = load_spec(sweep_factory(objective={"metric": "val_accuracy", "mode": "max"}))
    assert leaderboard_rows(scored, the_choice(), by_accuracy)[0].count("val_accuracy") == 1


def test_the_recipe_retrains_the_chosen_step_on_the_sweep_s_schedule(sweep_factory):
    spec = load_spec(sweep_factory(training={"max_steps": 40, "eval_every": 10},
                                   scheduler={"type": "asha", "grace_period": 4},
                                   stopping={"gap": {"patience": 3}}))
    chosen = the_choice().chosen
    fixed = recipe(spec, chosen)
    assert {name: p.value for name, p in fixed.space.items()} == chosen.params
    assert fixed.training.stop_at_step == 20
    assert fixed.training.max_steps == 40  # the schedule is the sweep's, not shortened
    assert fixed.search.num_trials == 1 and fixed.scheduler.type == "fifo"
    assert fixed.stopping.rules() == [] and fixed.selection.criterion == "last-step"
    assert fixed.name == "tiny-best"
    validate_spec(fixed.model_dump(mode="json"))  # a valid sweep file again


def test_write_results_and_a_best_yaml_that_validates(sweep_factory, tmp_path):
    spec = load_spec(sweep_factory(training={"max_steps": 40, "eval_every": 10}))
    run = RunDir.create(spec)
    choice = the_choice()
    write_results(RunReading(run, RECORDS))
    results = json.loads(run.results_file.read_text())
    assert (results["best_trial"], results["best_step"]) == ("overfit", 20)
    assert results["choice"]["why"] == choice.why
    assert results["choice"]["excluded"] == {"not-learning": ["idle"], "diverged": ["nan"],
                                             "error": ["broken"]}
    first = results["trials"][0]
    assert first["outcome"] == {"status": "stopped", "kind": "gap", "reason": "overfitting",
                                "step": 30, "excluded": False}
    assert first["label"] == "stopped: gap" and first["checkpoints"]["20"] == "/ckpt/overfit/20"
    text = run.best_file.read_text()
    assert text.startswith("# The chosen checkpoint of sweep tiny: trial overfit at step 20.")
    best = load_spec(run.best_file)
    assert best.training.stop_at_step == 20 and best.training.max_steps == 40
    validate_spec(best.model_dump(mode="json"))
    # What basin train must land on: the chosen figure at its step, the recipe's hash, and the
    # libraries the sweep started with (recorded in the run directory when it was created).
    assert "lands on val_loss 0.470000 at step 20" in text
    assert (best.reproduce.step, best.reproduce.metric, best.reproduce.value) == (
        20, "val_loss", 0.47)
    chosen = choice.chosen
    assert best.reproduce.recipe_hash == recipe_hash(trial_settings(spec),
                                                     Hyperparameters(**chosen.params))
    assert best.reproduce.versions == json.loads((run.path / "versions.json").read_text())
    assert best.reproduce.versions["torch"] == library_versions()["torch"]


def test_two_runs_started_in_the_same_second_get_their_own_folders(sweep_factory, monkeypatch):
    import datetime as real

    class FrozenClock(real.datetime):
        @classmethod
        def now(cls, tz=None):
            return cls(2026, 1, 1, 12, 0, 0)

    monkeypatch.setattr("search.store.rundir.datetime", FrozenClock)
    spec = load_spec(sweep_factory())
    first, second, third = (RunDir.create(spec) for _ in range(3))
    assert first.path.name == f"{spec.name}-20260101-120000"
    assert second.path.name == f"{spec.name}-20260101-120000-2"
    assert third.path.name == f"{spec.name}-20260101-120000-3"
    assert all(run.sweep_file.is_file() for run in (first, second, third))


def test_records_survive_a_trial_folder_that_a_killed_driver_left_half_written(sweep_factory):
    # Ray writes params.json as a trial starts; a driver killed at that moment leaves it empty.
    from search.store.records import collect_records

    run = RunDir.create(load_spec(sweep_factory()))
    folder = run.path / "abcdef12"
    folder.mkdir()
    (folder / "params.json").write_text("")
    (folder / "result.json").write_text(json.dumps({"step": 4, "val_loss": 0.6}) + "\n{\"st")
    (record,) = collect_records(run)
    assert (record.trial_id, record.params, record.last_step) == ("abcdef12", {}, 4)


def test_a_trial_in_flight_is_running_or_unfinished_as_the_caller_knows(sweep_factory):
    spec = load_spec(sweep_factory())
    for in_flight in ("running", "unfinished"):
        columns, rows = leaderboard_rows(RECORDS, the_choice(), spec, in_flight)
        status = {row[0]: row[-1] for row in rows}
        assert status["live"] == in_flight  # not ended
        assert status["overfit"] == "stopped: gap"  # ended: as it ended
