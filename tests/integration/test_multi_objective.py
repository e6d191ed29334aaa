"""search.multi_objective in a real sweep: Optuna's study has two directions, each finished
trial is told its best objective and the drift at that checkpoint, and everything that reads
the study (results.json, the plots, basin best) works as with one objective."""

from __future__ import annotations

import json
import math

import pytest
from optuna.trial import TrialState

from search.cli.main import main
from search.core.layout import HISTORY_PLOT
from search.store.rundir import RunDir

pytestmark = pytest.mark.integration


def test_a_multi_objective_sweep_tells_optuna_the_objective_and_the_drift(
        sweep_factory, tmp_path, capsys) -> None:
    sweep = sweep_factory(
        training={"max_steps": 8, "eval_every": 4, "micro_batch_size": 8},
        search={"num_trials": 6, "max_concurrent_trials": 2, "seed": 0, "sampler": "tpe",
                "multi_objective": True},
        scheduler={"type": "asha", "grace_period": 4, "reduction_factor": 2},
        stopping={"not_learning": None, "gap": None})
    assert main(["run", str(sweep), "--quiet"]) == 0
    run = RunDir(next((tmp_path / "runs").glob("*")))
    study = run.study()
    assert len(study.directions) == 2
    results = {t["trial_id"]: t for t in json.loads(run.results_file.read_text())["trials"]}
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    # TPE proposed past its random start-up trials (2 of 6) from two objectives.
    assert len(study.trials) == 6 and len(complete) >= 3
    for trial in complete:
        objective, drift = trial.values
        assert drift == trial.user_attrs["drift_at_best_step"] and math.isfinite(drift)
        evaluations = results[trial.user_attrs["ray_trial_id"]]["evaluations"]
        assert objective == min(e["val_loss"] for e in evaluations)
    # Trials ASHA cut are PRUNED without intermediate values (a two-objective study has none).
    assert all(not t.intermediate_values for t in study.trials)
    assert any(run.path.glob(f"{HISTORY_PLOT}.png"))
    capsys.readouterr()
    assert main(["best", str(run.path), "--front"]) == 0
    assert "front" in capsys.readouterr().out
