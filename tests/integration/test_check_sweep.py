"""basin check end to end: a tiny sweep with ``check`` on measures its top candidates when it
ends; the figures reach results.json, the leaderboard, each checked trial's W&B summary and
check.png, and ``selection: robust`` hands on the widest basin among them. ``basin check RUN``
measures again on its own."""

from __future__ import annotations

import json

import pytest

from search.cli.main import main
from tests.conftest import overfitting_data
from tests.wandb_runs import read_offline_runs

pytestmark = pytest.mark.integration

CHECK = {"top": 3, "radii": [1.0, 4.0], "directions": 2, "max_radius": 32,
         "bisection_steps": 2, "examples": 32}


def test_a_sweep_with_check_on_writes_the_figures_everywhere(sweep_factory, tmp_path, capsys,
                                                            monkeypatch):
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    sweep = sweep_factory(
        data=overfitting_data(tmp_path),
        training={"max_steps": 16, "eval_every": 4, "micro_batch_size": 8},
        space={"learning_rate": {"type": "choice", "values": [0.05, 0.03]}, "lora_r": 4},
        search={"num_trials": 2, "max_concurrent_trials": 2, "seed": 0, "sampler": "random"},
        selection={"criterion": "robust"},
        check=CHECK,
        tracking={"wandb": {"project": "basin-test", "mode": "offline"}},
    )
    assert main(["run", str(sweep), "--quiet"]) == 0
    output = capsys.readouterr().out
    (run_dir,) = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    results = json.loads((run_dir / "results.json").read_text())
    checked = results["check"]["candidates"]
    assert len(checked) == 3 <= results["choice"]["candidates"]
    assert "basin check of the top 3 candidates" in output
    assert "check: 3 candidates in " in output and "of the sweep's" in output
    for entry in checked:
        assert entry["basin_radius"] >= 0 and "drift" not in entry  # reported by the trials
        assert set(entry["increase"]) == {"1", "4"}
    chosen = results["choice"]["chosen"]
    assert results["choice"]["why"].startswith("robust: the widest basin")
    best = min(checked, key=lambda e: e["objective"])
    rows = {(t["trial_id"], row["step"]): row for t in results["trials"] for row in t["evaluations"]}
    bound = best["objective"] + rows[(best["trial_id"], best["step"])]["val_loss_se"]
    band = [e for e in checked if e["objective"] <= bound]  # one-se band of the val_loss
    assert chosen["basin_radius"] == max(e["basin_radius"] for e in band)
    assert (run_dir / "check.png").stat().st_size > 0
    assert "radius" in results["leaderboard"]["columns"]
    assert "drift" in results["leaderboard"]["columns"]

    # Each checked trial's W&B run carries the figures; still one run per trial.
    runs = [r for r in read_offline_runs(run_dir / "wandb") if r.job_type == "trial"]
    assert sorted(r.name for r in runs) == sorted(t["trial_id"] for t in results["trials"])
    by_trial = {r.name: r for r in runs}
    for entry in checked:
        run = by_trial[entry["trial_id"]]
        figures = json.loads(run.summary["check"]) if isinstance(run.summary["check"], str) \
            else run.summary["check"]
        assert figures[f"step_{entry['step']}"]["basin_radius"] == entry["basin_radius"]
        assert run.summary["final_status"] == "completed"
        assert len([row for row in run.history if "eval/val_loss" in row]) == 4
        assert len([row for row in run.history if "eval/drift" in row]) == 4  # its curve

    # basin check on its own: other settings, a new check.json, results.json follows.
    assert main(["check", str(run_dir), "--top", "1", "--radii", "2", "--seed", "3"]) == 0
    output = capsys.readouterr().out
    assert "check 1/1:" in output and "basin check of the top 1 candidates" in output
    again = json.loads((run_dir / "check.json").read_text())
    assert again["settings"]["seed"] == 3 and len(again["candidates"]) == 1
    assert json.loads((run_dir / "results.json").read_text())["check"] == again
    assert main(["best", str(run_dir)]) == 0
    assert "radius" in capsys.readouterr().out
