"""A sweep started from Python (``import basin``), its result read back as objects, exported
and re-trained: the same code as the commands, the same figures as the files they write."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import basin
from search.store.driver_lock import live_driver

pytestmark = pytest.mark.integration


def test_a_sweep_from_python_comes_back_as_objects(sweep_factory, tmp_path: Path) -> None:
    sweep_file = sweep_factory(search={"num_trials": 2, "max_concurrent_trials": 2, "seed": 0},
                               tracking={"wandb": {"mode": "disabled"}})
    sweep = basin.run(sweep_file, ["training.max_steps=8"])

    assert sweep.state == "finished" and sweep.spec.training.max_steps == 8
    assert live_driver(sweep.path) is None  # the lock is let go: basin status says finished
    results = json.loads((sweep.path / "results.json").read_text())
    written = results["choice"]["chosen"]
    assert (sweep.chosen.trial_id, sweep.chosen.step) == (written["trial_id"], written["step"])
    assert sweep.chosen.objective == pytest.approx(written["objective"])
    trials = sweep.trials()
    assert sorted(trials["trial_id"]) == sorted(t["trial_id"] for t in results["trials"])
    assert set(trials["state"]) == {"completed"} and set(trials["last_step"]) == {8}
    assert {"learning_rate", "lora_r", "val_loss"} <= set(trials.columns)
    evaluations = sweep.evaluations()
    assert sorted(evaluations.groupby("trial_id")["step"].apply(list).tolist()) == \
        [[4, 8], [4, 8]]

    again = basin.load(sweep.location)
    assert again.state == "finished" and again.chosen == sweep.chosen
    assert [r.trial_id for r in again.records] == [r.trial_id for r in sweep.records]

    # A model built from a config cannot be rebuilt to verify against (the example task's
    # test exports a pretrained one with verification).
    summary = basin.export(sweep.location, tmp_path / "bundle", verify=False)
    assert (summary["chosen"]["trial_id"], summary["chosen"]["step"]) == \
        (sweep.chosen.trial_id, sweep.chosen.step)
    assert (tmp_path / "bundle" / "adapter_config.json").is_file()

    report = basin.train(sweep.best_file, out=tmp_path / "trained")
    assert report["best_step"] == sweep.chosen.step
    assert report["best_objective"] == pytest.approx(sweep.chosen.objective, abs=1e-5)
