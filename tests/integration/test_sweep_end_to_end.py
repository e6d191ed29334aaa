"""Real Ray Tune, real Optuna, real DeepSpeed on CPU, with a tiny random model."""

from __future__ import annotations

import json
import math
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState
from safetensors.torch import load_file

from search.cli import main
from search.results import collect_records
from search.runner import new_run_dir, run_sweep
from search.searcher import REASON_ATTR
from search.spec import load_spec
from search.study_storage import open_storage
from tests.conftest import flipped_validation_data
from trainables.metrics import REPORTED_METRICS

pytestmark = pytest.mark.integration


def only_run_dir(tmp_path):
    (run_dir,) = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    return run_dir


def test_one_trial_reports_every_metric_with_a_finite_gap(sweep_factory):
    spec = load_spec(sweep_factory())
    run = new_run_dir(spec)
    grid = run_sweep(spec, run, quiet=True).grid
    assert len(grid) == 1 and grid[0].error is None
    history = grid[0].metrics_dataframe
    assert list(history["step"]) == [4, 8, 12]
    for name in REPORTED_METRICS:
        assert name in history, name
    for _, row in history.iterrows():
        assert math.isfinite(row["gap"])
        assert row["gap"] == pytest.approx(row["val_loss"] - row["train_eval_loss"])
    assert history["is_final"].tolist() == [False, False, True]
    assert history["world_size"].tolist() == [1, 1, 1]
    # Start-up (imports, model load, DeepSpeed init) is measured once, before the first step.
    assert history["startup_seconds"].nunique() == 1 and history["startup_seconds"].iloc[0] > 0
    started, last = history["trial_started_at"].iloc[0], history["reported_at"].iloc[-1]
    assert started + history["startup_seconds"].iloc[0] < last
    # Two checkpoints are kept, the best step's and the latest; the best holds that step.
    folder = Path(grid[0].path)
    assert len(list(folder.glob("checkpoint_*"))) <= 2
    best_step = int(history["best_step"].iloc[-1])
    best = Path(run.checkpoint(folder, best_step))
    with open(best / "trial_metrics.json") as handle:
        assert json.load(handle)["step"] == best_step
    assert (best / "adapter_model.safetensors").is_file()


def test_sweep_with_asha_and_gap_rule_writes_results_and_a_runnable_best_yaml(sweep_factory, tmp_path, capsys):
    sweep = sweep_factory(
        training={"max_steps": 16, "eval_every": 4, "micro_batch_size": 8},
        search={"num_trials": 4, "max_concurrent_trials": 2, "seed": 1},
        scheduler={"type": "asha", "grace_period": 8, "reduction_factor": 2},
        gap_pruning={"enabled": True, "threshold": 0.3, "patience": 2, "grace_steps": 4},
    )
    assert main(["run", str(sweep)]) == 0
    run_dir = only_run_dir(tmp_path)
    results = json.loads((run_dir / "results.json").read_text())
    assert len(results["trials"]) == 4
    assert results["best_trial"] in {t["trial_id"] for t in results["trials"]}
    assert {t["status"] for t in results["trials"]} <= {"completed", "pruned"}
    output = capsys.readouterr().out
    assert "best trial" in output and "status" in output

    best = load_spec(run_dir / "best.yaml")
    winner = next(t for t in results["trials"] if t["trial_id"] == results["best_trial"])
    assert {name: p.value for name, p in best.space.items()} == winner["params"]
    assert best.search.num_trials == 1
    best_run = tmp_path / "again"
    assert main(["run", str(run_dir / "best.yaml"), "--set", f"output_dir={best_run}"]) == 0
    (again,) = list(best_run.iterdir())
    rerun = json.loads((again / "results.json").read_text())
    assert len(rerun["trials"]) == 1
    assert rerun["trials"][0]["params"] == winner["params"]


def test_a_trial_whose_gap_is_forced_large_is_pruned_in_optuna(sweep_factory, tmp_path):
    sweep = sweep_factory(
        data=flipped_validation_data(tmp_path),
        training={"max_steps": 40, "eval_every": 4, "micro_batch_size": 8},
        space={"learning_rate": 0.02, "lora_r": 8},
        gap_pruning={"enabled": True, "threshold": 0.05, "patience": 2, "grace_steps": 0},
    )
    assert main(["run", str(sweep)]) == 1  # nothing completed: no best.yaml
    run_dir = only_run_dir(tmp_path)
    spec = load_spec(run_dir / "sweep.yaml")
    study = optuna.load_study(study_name=spec.name, storage=open_storage(run_dir, None))
    (trial,) = study.trials
    assert trial.state == TrialState.PRUNED
    assert trial.user_attrs[REASON_ATTR].startswith("gap ")
    assert len(trial.intermediate_values) >= 2
    stopped_at = max(trial.intermediate_values)
    assert stopped_at < 40
    results = json.loads((run_dir / "results.json").read_text())
    assert results["trials"][0]["status_label"] == "pruned: gap"
    assert results["trials"][0]["last_step"] == stopped_at
    assert not (run_dir / "best.yaml").exists()


def test_two_worker_trial_runs_deepspeed_across_two_processes(sweep_factory):
    spec = load_spec(sweep_factory(resources={"workers": 2, "cpus_per_worker": 0.5}))
    run = new_run_dir(spec)
    grid = run_sweep(spec, run, quiet=True).grid
    assert grid[0].error is None, grid[0].error
    history = grid[0].metrics_dataframe
    assert history["world_size"].tolist() == [2, 2, 2]
    assert history["is_final"].iloc[-1]
    assert math.isfinite(history["gap"].iloc[-1])
    (record,) = collect_records(run)
    assert record.status == "completed"
    # Ray Train's checkpoints are kept in the trial's folder of the run directory, where every
    # node's driver finds them, not in the worker node's session directory.
    assert record.checkpoint.startswith(str(run.path))
    with open(f"{record.checkpoint}/trial_metrics.json") as handle:
        assert json.load(handle)["step"] == record.best_step


@pytest.mark.parametrize("deepspeed", [{"zero_stage": 3}, {"zero_stage": 2, "offload": True}],
                         ids=["zero3", "zero2-offload"])
def test_zero_stages_train_and_save_the_whole_adapter(sweep_factory, deepspeed):
    # ZeRO-3 partitions the weights (the checkpoint must gather them); offload builds
    # DeepSpeed's CPU Adam (compiled once per machine, about a minute).
    spec = load_spec(sweep_factory(deepspeed=deepspeed, space={"learning_rate": 0.01,
                                                               "lora_r": 4}))
    grid = run_sweep(spec, new_run_dir(spec), quiet=True).grid
    assert grid[0].error is None, grid[0].error
    weights = load_file(f"{grid[0].checkpoint.path}/adapter_model.safetensors")
    lora = {name: tensor for name, tensor in weights.items() if ".lora_" in name}
    assert len(lora) == 2 * 2 * 2  # 2 layers x (query, value) x (A, B)
    assert all(t.shape in {(4, 32), (32, 4)} for t in lora.values())
    assert any("classifier" in name for name in weights)  # the head is saved with the adapter
