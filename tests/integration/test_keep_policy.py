"""The keep policy on a real sweep: candidates the policy drops lose their weights while the
sweep runs, ended trials lose their resume checkpoints, and what the sweep hands on (its choice,
basin check's candidates) is what a sweep that kept everything would have handed on."""

from __future__ import annotations

import json

import pytest

from search.cli.main import main
from tests.conftest import overfitting_data

pytestmark = pytest.mark.integration

CHECK = {"top": 2, "radii": [1.0], "directions": 1, "max_radius": 4, "bisection_steps": 1,
         "examples": 16}


def test_the_keep_policy_deletes_what_can_never_be_chosen(sweep_factory, tmp_path, capsys):
    sweep = sweep_factory(
        data=overfitting_data(tmp_path),
        training={"max_steps": 16, "eval_every": 4, "micro_batch_size": 8},
        space={"learning_rate": {"type": "choice", "values": [0.05, 0.02, 0.005]}, "lora_r": 4},
        search={"num_trials": 3, "max_concurrent_trials": 2, "seed": 0, "sampler": "random"},
        keep={"per_trial": 1, "best": 2}, check=CHECK)
    assert main(["run", str(sweep), "--quiet"]) == 0
    output = capsys.readouterr().out
    (run_dir,) = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    results = json.loads((run_dir / "results.json").read_text())
    rows = [(row["val_loss"], trial["trial_id"], row["step"]) for trial in results["trials"]
            for row in trial["evaluations"]]
    assert len(rows) == 3 * 4
    # What stays: each trial's best evaluation and the sweep's best two, nothing else.
    expected = {(t, s) for _, t, s in sorted(rows)[:2]} | {
        min((v, t, s) for v, t, s in rows if t == trial["trial_id"])[1:]
        for trial in results["trials"]}
    left = {(p.parents[1].name, int(p.name.split("_")[1]))
            for p in run_dir.glob("*/candidates/step_*")}
    assert left == expected
    for trial_id, step in left:
        assert (run_dir / trial_id / "candidates" / f"step_{step:08d}" /
                "adapter_model.safetensors").is_file()
    assert not list(run_dir.glob("*/checkpoint_*"))  # every trial ended: no resume state left
    # The choice and basin check's candidates are the sweep's best, as without the policy.
    best_loss, best_trial, best_step = min(rows)
    assert (results["best_trial"], results["best_step"]) == (best_trial, best_step)
    assert {(c["trial_id"], c["step"]) for c in results["check"]["candidates"]} == {
        (t, s) for _, t, s in sorted(rows)[:2]}
    assert f"kept the checkpoints of {len(expected)} of 12 evaluations" in " ".join(output.split())
    # A deleted candidate is named as such when asked for.
    gone = next((t, s) for _, t, s in rows if (t, s) not in left)
    assert main(["export", str(run_dir), "--out", str(tmp_path / "bundle"), "--trial", gone[0],
                 "--step", str(gone[1]), "--no-verify"]) == 2
    assert "its weights were deleted: each trial's best 1 and the sweep's best 2 are kept" in \
        " ".join(capsys.readouterr().err.split())
