"""Real Ray Tune, real Optuna, real DeepSpeed on CPU, with a tiny random model."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import optuna
import pandas
import pytest
import torch
from optuna.trial import TrialState
from safetensors.torch import load_file

from search.cli.main import main
from search.lifecycle.run import run_trials
from search.spec.model import load_spec
from search.store import trial_folder
from search.store.reading import RunReading
from search.store.rundir import RunDir
from search.store.study import OUTCOME_ATTRS, open_storage
from tests.conftest import overfitting_data
from trainables.contract import REPORTED_METRICS, candidate_name

pytestmark = pytest.mark.integration


def only_run_dir(tmp_path):
    (run_dir,) = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    return run_dir


def run_spec(spec) -> tuple[RunDir, Path]:
    """Run a one-trial sweep through basin's own lifecycle; its run directory and trial folder."""
    run = RunDir.create(spec)
    run_trials(spec, run, quiet=True)
    (folder,) = run.trial_folders().values()
    assert trial_folder.error(folder) is None, trial_folder.error(folder)
    return run, folder


def test_one_trial_reports_every_metric_with_a_finite_gap(sweep_factory):
    # Every evaluation's checkpoint kept (keep: per_trial null; the policy: test_keep_policy).
    run, folder = run_spec(load_spec(sweep_factory(keep={"per_trial": None})))
    history = pandas.DataFrame(trial_folder.history(folder))
    assert list(history["step"]) == [4, 8, 12]
    for name in REPORTED_METRICS:
        assert name in history, name
    for _, row in history.iterrows():
        assert math.isfinite(row["gap"])
        assert row["gap"] == pytest.approx(row["val_loss"] - row["train_eval_loss"])
    assert history["is_final"].tolist() == [False, False, True]
    assert history["world_size"].tolist() == [1, 1, 1]
    # What the stopping rules and the one-se criterion read is measured at every evaluation.
    assert (history["val_loss_se"] > 0).all() and (history["total_steps"] == 12).all()
    assert history["baseline_loss"].nunique() == 1 and history["baseline_loss"].iloc[0] > 0.6
    assert set(history["val_distinct_predictions"]) <= {1, 2}
    # Start-up (imports, model load, DeepSpeed init) is measured once, before the first step.
    assert history["startup_seconds"].nunique() == 1 and history["startup_seconds"].iloc[0] > 0
    started, last = history["trial_started_at"].iloc[0], history["reported_at"].iloc[-1]
    assert started + history["startup_seconds"].iloc[0] < last
    # Every evaluation's checkpoint is kept (each is a candidate), each holding its own step.
    checkpoints = run.checkpoints(folder)
    assert sorted(checkpoints) == [4, 8, 12]
    for step, where in checkpoints.items():
        with open(Path(where) / "trial_metrics.json") as handle:
            assert json.load(handle)["step"] == step
        assert (Path(where) / "adapter_model.safetensors").is_file()


def test_sweep_with_asha_and_stopping_rules_writes_results_and_a_runnable_best_yaml(
        sweep_factory, tmp_path, capsys):
    sweep = sweep_factory(
        training={"max_steps": 16, "eval_every": 4, "micro_batch_size": 8},
        search={"num_trials": 4, "max_concurrent_trials": 2, "seed": 1},
        scheduler={"type": "asha", "grace_period": 8, "reduction_factor": 2},
        stopping={"gap": {"patience": 2, "grace_steps": 4}, "not_learning": None},
    )
    assert main(["run", str(sweep)]) == 0
    run_dir = only_run_dir(tmp_path)
    results = json.loads((run_dir / "results.json").read_text())
    assert len(results["trials"]) == 4
    assert results["best_trial"] in {t["trial_id"] for t in results["trials"]}
    assert {t["outcome"]["status"] for t in results["trials"]} <= {"completed", "stopped",
                                                                   "pruned"}
    output = capsys.readouterr().out
    assert f"chosen: trial {results['best_trial']} at step {results['best_step']}" in output
    assert "why: objective: the best val_loss" in output

    best = load_spec(run_dir / "best.yaml")
    winner = next(t for t in results["trials"] if t["trial_id"] == results["best_trial"])
    assert {name: p.value for name, p in best.space.items()} == winner["params"]
    assert best.search.num_trials == 1
    assert best.training.stop_at_step == results["best_step"] and best.training.max_steps == 16
    best_run = tmp_path / "again"
    assert main(["run", str(run_dir / "best.yaml"), "--set", f"output_dir={best_run}"]) == 0
    (again,) = list(best_run.iterdir())
    rerun = json.loads((again / "results.json").read_text())
    assert len(rerun["trials"]) == 1
    assert rerun["trials"][0]["params"] == winner["params"]
    # It stops at the chosen step, on the sweep's schedule, and reproduces that checkpoint.
    chosen = results["choice"]["chosen"]
    assert rerun["trials"][0]["evaluations"][-1]["step"] == chosen["step"]
    assert rerun["choice"]["chosen"]["step"] == chosen["step"]
    assert rerun["choice"]["chosen"]["val_loss"] == pytest.approx(chosen["val_loss"], abs=1e-4)


def test_a_sweep_whose_every_trial_is_gap_stopped_still_names_and_exports_a_checkpoint(
        sweep_factory, tmp_path, capsys):
    # On these data every trial learns, then overfits: the gap rule stops each one (see
    # tests/conftest.py). basin used to name nothing when no trial trained its whole budget.
    sweep = sweep_factory(
        data=overfitting_data(tmp_path),
        training={"max_steps": 60, "eval_every": 4, "micro_batch_size": 8},
        space={"learning_rate": 0.05, "lora_r": {"type": "choice", "values": [4, 8]}},
        search={"num_trials": 2, "max_concurrent_trials": 2, "seed": 0},
        stopping={"gap": {"patience": 2}, "not_learning": None},
        tracking={"wandb": {"mode": "disabled"}},
    )
    assert main(["run", str(sweep)]) == 0
    printed = capsys.readouterr().out
    run_dir = only_run_dir(tmp_path)
    results = json.loads((run_dir / "results.json").read_text())
    for trial in results["trials"]:
        outcome = trial["outcome"]
        assert (outcome["status"], outcome["kind"]) == ("stopped", "gap")
        assert outcome["step"] < 60 and outcome["reason"].startswith("overfitting: val_loss rose")
        # Not a terminal: each trial's end line says what stopped it, why, and where the
        # sweep stands.
        ended = next(line for line in printed.splitlines()
                     if f"{trial['trial_id']} stopped: gap at step {outcome['step']}" in line)
        assert outcome["reason"] in ended and re.search(r"\([12]/2 done, \d running, ", ended)
        # One name per trial: its folder, its Optuna attribute, its W&B run (elsewhere).
        assert (run_dir / trial["trial_id"] / "trial.log").is_file()
    # Only basin's own lines: the libraries' output is in driver.log.
    for noise in ("Configuration for experiment", "View detailed results", "tensorboard",
                  "INFO", "WARNING"):
        assert noise not in printed, noise
    assert (run_dir / "driver.log").is_file()
    # Optuna hears each stopped trial's best objective, as COMPLETE, and its outcome: the same
    # fields as results.json and the stop ledger.
    study = optuna.load_study(study_name=run_dir.name, storage=open_storage(run_dir, None))
    ledger = {entry.pop("trial_id"): entry for entry in map(
        json.loads, (run_dir / "stops.jsonl").read_text().splitlines())}
    by_id = {t["trial_id"]: t["outcome"] for t in results["trials"]}
    for frozen in study.trials:
        assert frozen.state == TrialState.COMPLETE
        assert frozen.value == min(frozen.intermediate_values.values())
        trial_id = frozen.user_attrs["ray_trial_id"]
        told = {field: frozen.user_attrs[attr] for field, attr in OUTCOME_ATTRS.items()}
        assert told == by_id[trial_id] == ledger[trial_id]
    # The choice is a checkpoint from before the turn, and it exports.
    chosen = results["choice"]["chosen"]
    stopped_at = next(t for t in results["trials"]
                      if t["trial_id"] == chosen["trial_id"])["outcome"]["step"]
    assert chosen["step"] < stopped_at
    assert (run_dir / "best.yaml").is_file()
    bundle = tmp_path / "bundle"
    capsys.readouterr()
    assert main(["export", str(run_dir), "--out", str(bundle), "--no-verify"]) == 0
    assert f"exported trial {chosen['trial_id']} at step {chosen['step']}" in \
        capsys.readouterr().out
    metrics = json.loads((bundle / "metrics.json").read_text())
    assert metrics["metrics_at_step"]["step"] == chosen["step"]
    assert (bundle / "adapter_model.safetensors").is_file()


def test_two_worker_trial_runs_deepspeed_across_two_processes(sweep_factory):
    spec = load_spec(sweep_factory(resources={"workers": 2, "cpus_per_worker": 0.5},
                                   keep={"per_trial": None}))
    run, folder = run_spec(spec)
    history = pandas.DataFrame(trial_folder.history(folder))
    assert history["world_size"].tolist() == [2, 2, 2]
    assert history["is_final"].iloc[-1]
    assert math.isfinite(history["gap"].iloc[-1])
    reading = RunReading(run)
    (record,) = reading.records
    assert record.outcome.status == "completed"
    # Ray Train's checkpoints are kept in the trial's folder of the run directory, where every
    # node's driver finds them, not in the worker node's session directory.
    assert sorted(record.checkpoints) == [4, 8, 12]
    chosen = reading.choice().chosen
    assert chosen.checkpoint.startswith(str(run.path))
    with open(f"{chosen.checkpoint}/trial_metrics.json") as handle:
        assert json.load(handle)["step"] == chosen.step


@pytest.mark.parametrize("deepspeed", [{"zero_stage": 3}, {"zero_stage": 2, "offload": True}],
                         ids=["zero3", "zero2-offload"])
def test_zero_stages_train_and_save_the_whole_adapter(sweep_factory, deepspeed, tmp_path):
    # ZeRO-3 partitions the weights (the checkpoint must gather them); offload builds
    # DeepSpeed's CPU Adam (compiled once per machine, about a minute).
    sweep = sweep_factory(deepspeed=deepspeed, space={"learning_rate": 0.01, "lora_r": 4},
                          keep={"per_trial": None})
    run, folder = run_spec(load_spec(sweep))
    saved = {step: load_file(f"{where}/adapter_model.safetensors")
             for step, where in run.checkpoints(folder).items()}
    weights = saved[12]
    lora = {name: tensor for name, tensor in weights.items() if ".lora_" in name}
    assert len(lora) == 2 * 2 * 2  # 2 layers x (query, value) x (A, B)
    assert all(t.shape in {(4, 32), (32, 4)} for t in lora.values())
    # Trained, and gathered whole: LoRA's B starts at zero, so an adapter saved untrained (or
    # a partition saved as a placeholder) would be all zeros.
    assert all(t.abs().sum() > 0 for name, t in lora.items() if ".lora_B" in name)
    assert any("classifier" in name for name in weights)  # the head is saved with the adapter
    # Each step's own adapter: the same recipe without ZeRO (basin train) saves, step for step,
    # the same weights (to float rounding: partitioned sums and DeepSpeed's CPU Adam).
    plain = tmp_path / "zero0"
    assert main(["train", str(sweep), "--out", str(plain), "--set", "deepspeed.zero_stage=0",
                 "--set", "deepspeed.offload=false"]) == 0
    for step in (4, 8, 12):
        twin = load_file(str(plain / "candidates" / candidate_name(step) /
                             "adapter_model.safetensors"))
        assert twin.keys() == saved[step].keys()
        assert all(torch.allclose(saved[step][k], twin[k], rtol=1e-4, atol=1e-6) for k in twin)
    lora_b = next(name for name in saved[4] if ".lora_B" in name)
    assert not torch.equal(saved[4][lora_b], saved[12][lora_b])  # and the steps' differ
    # The drift, measured on the engine whose weights ZeRO partitioned: 1 - a cosine, moved.
    drifts = [row["drift"] for row in trial_folder.history(folder) if "step" in row]
    assert drifts and all(0 <= d <= 2 for d in drifts) and drifts[-1] > 0


def test_two_runs_sharing_one_study_database_stay_apart(sweep_factory, tmp_path):
    """Each run owns its study: two runs of one sweep in one database (as on a cluster's
    PostgreSQL) never see each other's trials."""
    spec = load_spec(sweep_factory(search={"num_trials": 1, "max_concurrent_trials": 1, "seed": 0,
                                           "storage": f"sqlite:///{tmp_path}/shared.db"},
                                   tracking={"wandb": {"mode": "disabled"}}))
    runs = [run_spec(spec)[0], run_spec(spec)[0]]
    assert runs[0].path != runs[1].path
    assert sorted(optuna.get_all_study_names(spec.search.storage)) == \
        sorted(run.path.name for run in runs)
    for run in runs:
        reading = RunReading(run)
        (record,) = reading.records
        assert record.trial_id in run.trial_folders()
        assert reading.choice().chosen.trial_id == record.trial_id
