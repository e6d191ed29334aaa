"""Nothing lost: kill the driver and resume, failing and diverging trials, bounded checkpoints."""

from __future__ import annotations

import json
import shutil
import signal
import threading

import psutil
import pytest
from optuna.trial import TrialState

from search.cli.main import main
from search.core.outcome import ORPHANED
from search.lifecycle.finish import finish_sweep
from search.lifecycle.resume import resume_trials
from search.lifecycle.run import run_trials
from search.spec.model import load_spec
from search.store import trial_folder
from search.store.rundir import RunDir
from search.store.study import KIND_ATTR, RAY_TRIAL_ATTR, STATUS_ATTR
from search.trackers.wandb_runs import run_id
from tests.conftest import disk_full_once, refused_when
from tests.integration.drivers import (
    ask_after_the_snapshot,
    kill_when,
    start_driver,
    the_run,
    wait_for,
)
from tests.integration.retrain import figures, retrained
from tests.wandb_runs import read_offline_runs

pytestmark = pytest.mark.integration


def test_sigkill_then_resume_finishes_the_sweep_without_repeating_work(sweep_factory, tmp_path,
                                                                      capsys):
    # Random sampling: re-seeded from the sweep's seed on resume, it would draw the same
    # configurations again (TPE's reopened draws are checked in tests/test_searcher.py).
    sweep = sweep_factory(training={"max_steps": 40, "eval_every": 4, "micro_batch_size": 8},
                          search={"num_trials": 5, "max_concurrent_trials": 2, "seed": 0,
                                  "sampler": "random"},
                          tracking={"wandb": {"mode": "offline"}})
    driver = start_driver(["run", str(sweep), "--quiet"], tmp_path / "driver.log")

    def mid_sweep() -> bool:
        run = the_run(tmp_path)
        if run is None:
            return False
        trials = run.optuna_trials().values()
        completed = [t for t in trials if t.user_attrs.get(STATUS_ATTR) == "completed"]
        midway = [t for t in trials if t.state == TrialState.RUNNING
                  and len(t.intermediate_values) >= 3]
        return bool(completed) and bool(midway)

    kill_when(driver, mid_sweep)
    run = the_run(tmp_path)
    assert not run.finished
    folders = run.trial_folders()
    before = {t: (folders[t] / "result.json").read_text()
              for t, o in run.optuna_trials().items() if o.user_attrs.get(STATUS_ATTR)}
    midway = {t: max(o.intermediate_values) for t, o in run.optuna_trials().items()
              if o.state == TrialState.RUNNING and o.intermediate_values}
    # What Ray's copy of its state into the run directory leaves when a snapshot lands in the
    # middle of it: the trials of one snapshot, the trial count and searcher of the next,
    # which asked for one more trial (search/tune/restored_state.py; seen in CI).
    asked_late = ask_after_the_snapshot(run)
    # What a kill during the journal's next write leaves: a torn record, no line end.
    journal = run.path / "optuna.journal"
    whole = journal.read_bytes()
    journal.write_bytes(whole + b'{"op_code":6,"worker_id":"x","trial_id":1,"param_na')
    # The trials that had trained at the kill, by id (one asked for in the last moment, that
    # Ray never recorded, is an orphan: failed as such and its configuration queued again).
    recorded = {t for t, o in run.optuna_trials().items() if o.intermediate_values}
    # One trial in flight lost its checkpoints too (an operator's clean-up, an object store's
    # stale snapshot): it is trained again from step 0, not failed.
    lost = max(midway, key=midway.get)
    for checkpoint in folders[lost].glob("checkpoint_*"):
        shutil.rmtree(checkpoint)

    assert main(["status", str(run.path)]) == 0
    assert "optuna.journal: ignored 1 torn or unreadable line (51 bytes)" in capsys.readouterr().out
    assert main(["resume", str(run.path), "--quiet"]) == 0
    said = capsys.readouterr().out
    assert "optuna.journal: dropped 1 torn or unreadable line (51 bytes)" in said
    assert journal.read_bytes().startswith(whole)  # every complete record kept

    results = json.loads((run.path / "results.json").read_text())
    ids = [t["trial_id"] for t in results["trials"]]
    assert len(ids) == len(set(ids)) == 5  # the requested count, each trial once
    assert recorded and recorded <= set(ids)  # every trial known at the kill ended
    study_ids = [t.user_attrs[RAY_TRIAL_ATTR] for t in run.study().trials
                 if t.user_attrs.get(KIND_ATTR) != ORPHANED]
    assert sorted(study_ids) == sorted(ids)  # once in the study too, none lost
    assert asked_late not in ids  # Ray never had it: told FAIL as an orphan, its draw trained
    (late,) = [t for t in run.study().trials if t.user_attrs.get(RAY_TRIAL_ATTR) == asked_late]
    assert late.state == TrialState.FAIL and late.user_attrs[KIND_ATTR] == ORPHANED
    assert late.params in [{name: t["params"][name] for name in late.params}
                           for t in results["trials"]]
    assert all(t["outcome"]["status"] == "completed" for t in results["trials"])
    configurations = [tuple(sorted(t["params"].items())) for t in results["trials"]]
    assert len(set(configurations)) == 5, configurations  # none trained twice
    # One W&B run per trial, plus the sweep's: a trial Ray restarted continued its own run,
    # which holds the trial's whole history.
    runs = read_offline_runs(run.path / "wandb")
    assert len(runs) == 5 + 1
    trial_runs = {r.run_id: r for r in runs if r.job_type == "trial"}
    assert sorted(trial_runs) == sorted(run_id(run.path.name, trial_id) for trial_id in ids)
    for trial_id in ids:
        logged = {row["_step"] for row in trial_runs[run_id(run.path.name, trial_id)].history
                  if "eval/val_loss" in row}
        assert logged == set(range(4, 41, 4)), (trial_id, sorted(logged))
    # Trials told before the kill were not trained again: their reports are untouched
    # (a trial told in the last moment may have its final report repeated, never new steps).
    folders = run.trial_folders()
    for trial_id, text in before.items():
        steps = [json.loads(line)["step"] for line in text.splitlines()]
        again = [r["step"] for r in trial_folder.history(folders[trial_id])]
        assert again == steps, trial_id
    # A trial killed midway continued from its latest checkpoint, not from the start. Ray
    # records a trial's checkpoint in its experiment snapshot at most one evaluation late, so
    # the evaluation in flight at the kill may be trained and reported once more, never more.
    for trial_id, last_step in midway.items():
        steps = [json.loads(line)["step"]
                 for line in (folders[trial_id] / "result.json").read_text().splitlines()]
        assert [r["step"] for r in trial_folder.history(folders[trial_id])] == sorted(set(steps))
        if trial_id == lost:  # its first run's reports, then every step again from the start
            again = steps.index(4, 1)
            assert steps[:again] == list(range(4, steps[again - 1] + 1, 4)), steps
            assert steps[again:] == list(range(4, 41, 4)), steps
            continue
        assert steps[-1] == 40 and steps == sorted(steps), (trial_id, last_step, steps)
        assert len(steps) - len(set(steps)) <= 1, (trial_id, last_step, steps)
    assert f"trial {lost}: its checkpoint is gone" in (run.path / "driver.log").read_text()
    # The keep policy held across the kill (default: each trial's best candidate and the
    # sweep's best five keep their weights), and no ended trial keeps resume checkpoints.
    rows = sorted((r["val_loss"], trial_id, r["step"]) for trial_id, folder in folders.items()
                  for r in trial_folder.history(folder))
    # (A trial asked for at the kill's moment may have a folder and no report: an orphan.)
    kept = {(t, s) for _, t, s in rows[:5]} | {
        min(row for row in rows if row[1] == trial_id)[1:] for trial_id in {r[1] for r in rows}}
    for trial_id, folder in folders.items():
        assert sorted(run.checkpoints(folder)) == sorted(s for t, s in kept if t == trial_id)
        assert not list(folder.glob("checkpoint_*")), trial_id


def test_ctrl_c_stops_cleanly_and_prints_the_resume_command(sweep_factory, tmp_path):
    sweep = sweep_factory(training={"max_steps": 200, "eval_every": 4, "micro_batch_size": 8},
                          search={"num_trials": 3, "max_concurrent_trials": 1},
                          tracking={"wandb": {"mode": "offline"}})
    log = tmp_path / "driver.log"
    driver = start_driver(["run", str(sweep), "--quiet"], log)
    wait_for(lambda: (run := the_run(tmp_path)) is not None and any(
        len(t.intermediate_values) >= 2 for t in run.optuna_trials().values()))
    driver.send_signal(signal.SIGINT)
    assert driver.wait(timeout=120) == 130
    output = log.read_text()
    run = the_run(tmp_path)
    assert f"basin resume {run.path}" in output
    assert "Traceback" not in output
    # W&B is written from a thread of its own; Ctrl-C drains it: every evaluation the trial
    # reported before the interruption is in its run.
    (trial,) = [t for t in run.optuna_trials().values() if t.intermediate_values]
    (trial_run,) = [r for r in read_offline_runs(run.path / "wandb") if r.job_type == "trial"]
    logged = {row["_step"] for row in trial_run.history if "eval/val_loss" in row}
    assert logged >= set(trial.intermediate_values), (logged, trial.intermediate_values)


def test_a_raising_and_a_diverging_trial_end_with_reasons_while_the_other_completes(
        sweep_factory, tmp_path):
    # Optuna's random sampler with seed 6 draws (0.01, 4), (1e30, 4), (1e30, 8): a healthy
    # trial, one whose weights blow up to NaN, and one that raises before it trains.
    spec = load_spec(sweep_factory(
        space={"learning_rate": {"type": "choice", "values": [0.01, 1e30]},
               "lora_r": {"type": "choice", "values": [4, 8]}},
        search={"num_trials": 3, "max_concurrent_trials": 2, "seed": 6, "sampler": "random"},
        tracking={"wandb": {"mode": "offline"}}))
    run = RunDir.create(spec)
    # A rank no sweep file can hold, refused by the trial's own settings: the kind of error
    # that once escaped the trial's handling and was retried as a dead node.
    calls = tmp_path / "calls"
    calls.mkdir()
    raising = refused_when("lora_r", 8, {"lora_r": 4.5}, calls=calls)
    finish_sweep(run, run_trials(spec, run, quiet=True, function=raising))
    # docs/resilience.md, "Failing trials": neither is retried (resources.max_failures is 1 by default):
    # each of the three trials was started once.
    started = sorted(p.name.split("-")[0] for p in calls.iterdir())
    assert started == ["lora_r=4", "lora_r=4", "lora_r=8"]
    results = json.loads((run.path / "results.json").read_text())
    by_label = {t["label"]: t for t in results["trials"]}
    assert set(by_label) == {"completed", "pruned: diverged", "failed: error"}
    assert "non-finite training loss" in by_label["pruned: diverged"]["outcome"]["reason"]
    assert "ValidationError: 1 validation error for Hyperparameters" in \
        by_label["failed: error"]["outcome"]["reason"]
    assert by_label["failed: error"]["params"]["lora_r"] == 8
    told = run.optuna_trials()
    assert told[by_label["failed: error"]["trial_id"]].state == TrialState.FAIL
    assert told[by_label["pruned: diverged"]["trial_id"]].state == TrialState.PRUNED
    assert told[by_label["completed"]["trial_id"]].state == TrialState.COMPLETE
    folder = run.trial_folders()[by_label["failed: error"]["trial_id"]]
    assert "Traceback" in (folder / "error.txt").read_text()
    # Neither is ever handed on: the choice is the healthy trial's.
    assert results["best_trial"] == by_label["completed"]["trial_id"]
    excluded = results["choice"]["excluded"]
    assert excluded["diverged"] == [by_label["pruned: diverged"]["trial_id"]]
    assert excluded["error"] == [by_label["failed: error"]["trial_id"]]


def two_trials_on_a_disk_that_fills(sweep_factory, tmp_path, max_failures: int):
    """Two trials run (no finish), the first checkpoint either saves at step 8 meeting a full
    disk; the run directory and the markers of the trials' starts."""
    spec = load_spec(sweep_factory(search={"num_trials": 2, "max_concurrent_trials": 2,
                                           "seed": 0},
                                   resources={"max_failures": max_failures},
                                   tracking={"wandb": {"mode": "disabled"}}))
    run = RunDir.create(spec)
    markers = tmp_path / "markers"
    markers.mkdir()
    run_trials(spec, run, quiet=True, function=disk_full_once(markers, at_step=8))
    return run, markers


def test_a_full_disk_is_a_fault_of_the_machine_not_a_failed_configuration(sweep_factory,
                                                                           tmp_path):
    """A trial that meets a full disk while saving its step-8 checkpoint is restarted by Ray
    from its step-4 checkpoint (resources.max_failures: 1) and completes; it is not recorded as
    a failed configuration (before: ``failed: error`` for good)."""
    run, markers = two_trials_on_a_disk_that_fills(sweep_factory, tmp_path, max_failures=1)
    finish_sweep(run, [])
    assert (markers / "disk-full").exists()  # the fault happened
    assert len(list(markers.glob("start-*"))) == 3  # two trials, one of them started again
    results = json.loads((run.path / "results.json").read_text())
    assert [t["label"] for t in results["trials"]] == ["completed", "completed"]
    assert all(t["evaluations"][-1]["step"] == 12 for t in results["trials"])
    assert {t.state for t in run.optuna_trials().values()} == {TrialState.COMPLETE}
    # Ray's record of the fault ("Failure # 1") stays in the restarted trial's error.txt.
    (record,) = run.path.glob("*/error.txt")
    assert "Failure # 1" in record.read_text() and "No space left on device" in record.read_text()


def test_a_trial_whose_retries_a_full_disk_spent_is_continued_by_resume(sweep_factory,
                                                                         tmp_path):
    """The disk stays full through the trial's retries (here: none, max_failures 0) and the
    driver dies with it; once space is back, `basin resume` continues the trial from its latest
    checkpoint (before: it stayed `failed` and the sweep finished without it), and Optuna is
    told of it once, when it completes."""
    run, _ = two_trials_on_a_disk_that_fills(sweep_factory, tmp_path, max_failures=0)
    (faulted,) = [folder.name for folder in run.path.glob("*") if (folder / "error.txt").is_file()]
    assert [r["step"] for r in trial_folder.history(run.path / faulted)] == [4]
    # The driver died with the disk (no finish); space is back: resume.
    finish_sweep(run, resume_trials(run, quiet=True))
    results = json.loads((run.path / "results.json").read_text())
    assert [t["label"] for t in results["trials"]] == ["completed", "completed"]
    steps = [json.loads(line)["step"]
             for line in (run.path / faulted / "result.json").read_text().splitlines()]
    assert steps == [4, 8, 12]  # continued from its step-4 checkpoint, nothing trained twice
    told = run.optuna_trials()
    assert {t.state for t in told.values()} == {TrialState.COMPLETE} and len(told) == 2


def test_a_trial_whose_process_dies_is_restarted_from_its_latest_checkpoint(sweep_factory,
                                                                            tmp_path):
    # SIGKILL of the trial's own process stands in for a lost node: Ray restarts the trial
    # (resources.max_failures: 1) from the latest checkpoint it recorded.
    sweep = sweep_factory(training={"max_steps": 40, "eval_every": 4, "micro_batch_size": 8},
                          resources={"max_failures": 1}, tracking={"wandb": {"mode": "disabled"}})
    killed: list[int] = []

    def result_lines(at_least: int) -> list[str]:
        """The trial's lines in Ray's result.json once it holds ``at_least`` (else none).
        Optuna hears of a report before Ray's logger writes it (a CI run read an empty file
        after Optuna's fourth value): wait on the file itself."""
        run = the_run(tmp_path)
        folders = list(run.trial_folders().values()) if run is not None else []
        if len(folders) != 1 or not (folders[0] / "result.json").is_file():
            return []
        lines = (folders[0] / "result.json").read_text().splitlines()
        try:
            json.loads(lines[-1]) if lines else None
        except ValueError:  # the line Ray is writing now
            return []
        return lines if len(lines) >= at_least else []

    def kill_the_trial_midway() -> None:
        wait_for(lambda: result_lines(4))
        # Only this trial's own process (it reports its pid), not every Ray worker on the
        # machine.
        pid = json.loads(result_lines(4)[-1])["worker_pid"]
        psutil.Process(pid).kill()
        killed.append(pid)

    killer = threading.Thread(target=kill_the_trial_midway, daemon=True)
    killer.start()
    assert main(["run", str(sweep), "--quiet"]) == 0
    killer.join(timeout=5)
    assert killed, "the trial process was found and killed"
    run = the_run(tmp_path)
    (trial,) = json.loads((run.path / "results.json").read_text())["trials"]
    assert trial["outcome"]["status"] == "completed" and trial["evaluations"][-1]["step"] == 40
    (folder,) = run.trial_folders().values()
    reported = [json.loads(line) for line in (folder / "result.json").read_text().splitlines()]
    steps = [row["step"] for row in reported]
    assert steps == sorted(steps) and steps[-1] == 40  # went on from a checkpoint, not step 4
    assert len(steps) - len(set(steps)) <= 1
    # Every report, the one trained twice included, is what the same configuration reports
    # trained without a kill.
    twin = retrained(sweep, trial["params"], tmp_path / "uninterrupted")
    assert sorted(twin) == list(range(4, 41, 4))
    assert all(figures(row) == twin[row["step"]] for row in reported)
