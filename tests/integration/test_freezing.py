"""Freeze, don't kill, in a real sweep: trials below a rung are paused with their checkpoint and
thawed later, continuing their curves; what Optuna, results.json and the stop ledger say of
every trial agrees; a driver killed while trials are frozen resumes with them still frozen and
thawable."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from optuna.trial import TrialState

from search.cli.main import main
from search.store.freeze_ledger import FreezeLedger
from search.store.rundir import RunDir
from search.store.stop_ledger import StopLedger
from tests.integration.drivers import (
    kill_when,
    resume_in_own_process,
    start_driver,
    the_run,
)
from tests.integration.retrain import figures, retrained

pytestmark = pytest.mark.integration

TRIALS, MAX_STEPS = 10, 8  # 80 steps in all, the rung at step 4
STATES = {"completed": TrialState.COMPLETE, "stopped": TrialState.COMPLETE,
          "pruned": TrialState.PRUNED, "failed": TrialState.FAIL}


def _freezing_sweep(sweep_factory, budget: int | str | None = None) -> Path:
    """Ten short trials, two at a time. The tiny model's rung scores differ by noise only, so
    which trials freeze is chance: with ten, and only the top quarter going on at the rung
    (reduction factor 4), it is near certain (each later trial is below the cut-off about three
    times in four) that some freeze early and stay frozen until the tenth starts."""
    search = {"num_trials": TRIALS, "max_concurrent_trials": 2, "seed": 0, "sampler": "random"}
    if budget:
        search["max_total_steps"] = budget
    return sweep_factory(training={"max_steps": MAX_STEPS, "eval_every": 4, "micro_batch_size": 8},
                         search=search, stopping={"not_learning": None, "gap": None},
                         scheduler={"type": "freeze", "grace_period": 4,
                                    "reduction_factor": 4},
                         space={"learning_rate": {"type": "float", "low": 1e-4, "high": 3e-2,
                                                  "log": True},
                                "lora_r": {"type": "choice", "values": [2, 4]},
                                "lora_dropout": 0.1})


def _agreeing_records(run: RunDir) -> dict:
    """Every trial's final word, checked to agree between results.json, the study and the stop
    ledger, and its curve checked to hold every evaluation once, in order."""
    results = json.loads(run.results_file.read_text())
    # A configuration Optuna proposed that Ray never recorded before a driver was killed has
    # no Ray id (an orphan, re-queued on resume): every trial of results.json has one.
    study = {t.user_attrs["ray_trial_id"]: t for t in run.study().trials
             if "ray_trial_id" in t.user_attrs}
    stops = StopLedger(run.stops_file)
    for trial in results["trials"]:
        outcome = trial["outcome"]
        assert study[trial["trial_id"]].state == STATES[outcome["status"]], trial
        decision = stops.decision(trial["trial_id"])
        if outcome["kind"] == "frozen":
            assert decision is not None and decision.kind == "frozen", trial
        steps = [row["step"] for row in trial["evaluations"]]
        assert steps == sorted(set(steps)), (trial["trial_id"], steps)
        if outcome["status"] == "completed":
            assert steps == list(range(4, MAX_STEPS + 1, 4)), (trial["trial_id"], steps)
    return results


def test_frozen_trials_are_thawed_and_continue(sweep_factory, tmp_path, capsys) -> None:
    sweep = _freezing_sweep(sweep_factory)
    assert main(["run", str(sweep), "--verbose"]) == 0
    printed = capsys.readouterr().out
    run = RunDir(next((tmp_path / "runs").glob("*")))
    freezes = FreezeLedger(run.freezes_file)
    frozen = [e for e in freezes.events if e.event == "frozen"]
    thawed = [e for e in freezes.events if e.event == "thawed"]
    assert frozen and thawed, freezes.events
    assert "frozen at step" in printed and "thawed" in printed
    results = _agreeing_records(run)
    # No step budget: every frozen trial is thawed in the end and trains its whole budget.
    assert Counter(t["outcome"]["status"] for t in results["trials"]) == {"completed": TRIALS}
    thawed_trial = next(t for t in results["trials"] if t["freezes"])
    assert [e["event"] for e in thawed_trial["freezes"]][:2] == ["frozen", "thawed"]
    # Its curve continued from its checkpoint: one report per evaluation, no restart from 0
    # (every report Ray received, not the history, which keeps a repeated step once) ...
    folder = run.trial_folders()[thawed_trial["trial_id"]]
    reported = [json.loads(line) for line in (folder / "result.json").read_text().splitlines()]
    assert [row["step"] for row in reported] == [4, 8]
    # ... and landed where the same configuration lands trained without a pause.
    twin = retrained(sweep, thawed_trial["params"], tmp_path / "uninterrupted")
    assert {row["step"]: figures(row) for row in reported} == twin


def test_a_step_budget_leaves_frozen_trials_pruned(sweep_factory, tmp_path) -> None:
    # 62.5% of ten trials of eight steps: 50 steps, as a share (what the shipped sweeps write).
    assert main(["run", str(_freezing_sweep(sweep_factory, budget="62.5%")), "--quiet"]) == 0
    run = RunDir(next((tmp_path / "runs").glob("*")))
    results = _agreeing_records(run)
    kinds = Counter(t["outcome"]["kind"] for t in results["trials"])
    # Never thawed (without a budget every frozen trial is: the test above): pruned, and Optuna
    # heard so at the end.
    assert kinds["frozen"] >= 1, kinds


def test_frozen_trials_survive_a_killed_driver(sweep_factory, tmp_path: Path) -> None:
    sweep = _freezing_sweep(sweep_factory)
    driver = start_driver(["run", str(sweep), "--quiet"], tmp_path / "driver.log")

    def some_frozen() -> bool:
        run = the_run(tmp_path)
        return run is not None and run.freezes_file.is_file() and \
            bool(FreezeLedger(run.freezes_file).frozen())

    kill_when(driver, some_frozen)
    run = the_run(tmp_path)
    frozen_at_kill = FreezeLedger(run.freezes_file).frozen()
    resume_in_own_process(run, tmp_path / "resume.log")
    results = _agreeing_records(run)
    assert len(results["trials"]) == TRIALS
    by_id = {t["trial_id"]: t for t in results["trials"]}
    for trial_id, event in frozen_at_kill.items():
        # Still frozen on resume (then thawed): its curve goes on from where it was frozen.
        assert by_id[trial_id]["freezes"][0]["event"] == "frozen", by_id[trial_id]
        steps = [row["step"] for row in by_id[trial_id]["evaluations"]]
        assert steps[:steps.index(event.step) + 1] == list(range(4, event.step + 1, 4))
