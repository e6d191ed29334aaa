"""W&B in offline mode: one run per trial plus one for the sweep, read back with wandb's reader."""

from __future__ import annotations

import json

import pytest

from search.cli.main import main
from tests.conftest import overfitting_data
from tests.wandb_runs import read_offline_runs

pytestmark = pytest.mark.integration


def test_offline_sweep_writes_one_run_per_trial_and_one_for_the_sweep(sweep_factory, tmp_path,
                                                                       capsys, monkeypatch):
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    # On these data a learner overfits (see tests/conftest.py): the trial with the high
    # learning rate learns and is gap-stopped, the ones with the tiny one barely move and
    # complete.
    sweep = sweep_factory(
        data=overfitting_data(tmp_path),
        training={"max_steps": 40, "eval_every": 4, "micro_batch_size": 8},
        space={"learning_rate": {"type": "choice", "values": [0.05, 1e-5]}, "lora_r": 8},
        # Optuna's random sampler with seed 0 draws 1e-5, 0.05, 1e-5: one learner, two idlers.
        search={"num_trials": 3, "max_concurrent_trials": 2, "seed": 0, "sampler": "random"},
        stopping={"gap": {"patience": 2}, "not_learning": None},
        tracking={"wandb": {"project": "basin-test", "mode": "online", "tags": ["ci"]}},
    )
    assert main(["run", str(sweep)]) in (0, 1)
    output = capsys.readouterr().out
    assert "W&B: offline (no W&B API key" in output  # online without a key falls back, once
    assert output.count("W&B: offline") == 1
    assert "wandb sync " in output

    (run_dir,) = list((tmp_path / "runs").iterdir())
    results = json.loads((run_dir / "results.json").read_text())
    runs = read_offline_runs(run_dir / "wandb")
    trial_runs = [r for r in runs if r.job_type == "trial"]
    sweep_runs = [r for r in runs if r.job_type == "sweep"]
    assert len(runs) == len(results["trials"]) + 1 == 4
    assert len(sweep_runs) == 1
    assert len({r.run_id for r in runs}) == len(runs)  # no trial produced two runs
    # W&B's system-metrics sampler is off (search/trackers/wandb.py says why): no samples, not
    # even in the sweep's run, which lasts the whole sweep.
    assert [r.system_samples for r in runs] == [0] * len(runs)

    by_trial = {r.config["trial_id"]: r for r in trial_runs}
    assert set(by_trial) == {t["trial_id"] for t in results["trials"]}
    for trial in results["trials"]:
        run = by_trial[trial["trial_id"]]
        assert run.group == run_dir.name
        assert run.name == trial["trial_id"]  # one name: the id in tables and folder names
        assert "ci" in run.tags
        assert run.config["hyperparameters"]["learning_rate"] == trial["params"]["learning_rate"]
        assert run.config["sweep"]["training"]["max_steps"] == 40
        last_step = trial["evaluations"][-1]["step"]
        evals = [row for row in run.history if "eval/val_loss" in row]
        assert len(evals) == last_step // 4
        for name in ("eval/train_loss", "eval/gap", "eval/val_accuracy", "eval/val_loss_se",
                     "train/learning_rate", "perf/samples_per_second"):
            assert name in evals[-1]
        losses = [row for row in run.history if "train/loss" in row]
        assert [row["_step"] for row in losses] == list(range(1, last_step + 1))
        # The outcome's fields, the same as in results.json (and the ledger and the study).
        outcome = trial["outcome"]
        assert (run.summary["final_status"], run.summary["stop_kind"],
                run.summary["stop_reason"], run.summary["stop_step"]) == (
            outcome["status"], outcome["kind"], outcome["reason"], outcome["step"])
        assert outcome["status"] in run.tags

    assert {t["label"] for t in results["trials"]} == {"stopped: gap", "completed"}
    (sweep_run,) = sweep_runs
    assert sweep_run.summary["trials"] == 3
    assert sweep_run.summary["leaderboard/_type"] == "table-file"
    assert sweep_run.summary["leaderboard/nrows"] == 3
    assert sweep_run.summary["best_trial"] == results["best_trial"]
    assert sweep_run.summary["best_step"] == results["best_step"]
    assert sweep_run.summary["choice"] == results["choice"]["why"]
    (table_file,) = run_dir.glob("wandb/offline-run-*-sweep/files/media/table/*.table.json")
    table = json.loads(table_file.read_text())
    assert {row[0] for row in table["data"]} == set(by_trial)
    assert "stopped: gap" in {row[table["columns"].index("status")] for row in table["data"]}

    # basin confirm's re-trainings are tracked too, each named by what it re-trains.
    assert main(["confirm", str(run_dir), "--top", "1", "--seeds", "1", "--quiet"]) == 0
    chosen = results["choice"]["chosen"]
    name = f"{chosen['trial_id']}-step{chosen['step']}-seed1"
    (confirm_run,) = [r for r in read_offline_runs(run_dir / "wandb") if r.job_type == "confirm"]
    assert confirm_run.name == name and confirm_run.group == run_dir.name
    assert any("eval/val_loss" in row for row in confirm_run.history)
    assert confirm_run.summary["final_status"] == "completed"
    assert list(run_dir.glob(f"confirm-*/{name}/trial.log"))


def test_two_worker_trial_produces_a_single_run(sweep_factory, tmp_path):
    sweep = sweep_factory(resources={"workers": 2, "cpus_per_worker": 0.5},
                          tracking={"wandb": {"mode": "offline"}})
    assert main(["run", str(sweep), "--quiet"]) == 0
    (run_dir,) = list((tmp_path / "runs").iterdir())
    runs = read_offline_runs(run_dir / "wandb")
    assert sorted(r.job_type for r in runs) == ["sweep", "trial"]


def test_disabled_tracking_writes_nothing(sweep_factory, tmp_path):
    sweep = sweep_factory(tracking={"wandb": {"mode": "disabled"}})
    assert main(["run", str(sweep), "--quiet"]) == 0
    (run_dir,) = list((tmp_path / "runs").iterdir())
    assert not list(run_dir.glob("wandb/offline-run-*"))


def test_unreachable_server_falls_back_to_offline_and_the_sweep_finishes(sweep_factory, tmp_path,
                                                                         capsys, monkeypatch):
    # An API key, but the server is a closed port on this machine: W&B gives up after its
    # init timeout, basin says so once and writes the runs offline.
    monkeypatch.setenv("WANDB_API_KEY", "a" * 40)
    monkeypatch.setenv("WANDB_BASE_URL", "http://127.0.0.1:9")
    sweep = sweep_factory(tracking={"wandb": {"mode": "online"}})
    assert main(["run", str(sweep)]) == 0
    output = capsys.readouterr().out
    assert output.count("W&B: offline (W&B unreachable") == 1
    (run_dir,) = list((tmp_path / "runs").iterdir())
    assert sorted(r.job_type for r in read_offline_runs(run_dir / "wandb")) == ["sweep", "trial"]
