"""Same recipe, same numbers, on the real default task (issue 45).

The shipped default sweep (``sweeps/minilm_lora.yaml``: all-MiniLM-L6-v2's pretrained weights, a
fresh classification head, the demo data, retention on), shortened to two evaluations. Three
configurations A, B, C run

- on one warm worker, one after another (A, B, C);
- on two warm workers at once, in the other order (C, B, A): another worker history, another
  order, and two trials sharing the machine;
- each alone, in a fresh process, by ``basin train`` (the path a best.yaml takes).

Every trial must land on the same figures at every evaluation (losses, accuracy, drift) and save
the same adapter, bit for bit. Tiny random models cannot show this: a base model whose checkpoint
lacks a weight (the classifier's head) is what the first load of a process initialises, and
that load drew from the trial's generator in a fresh process only (``trainables/warm.py``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from ray import tune
from safetensors.torch import load_file

from search.spec.model import load_spec
from search.store.rundir import RunDir
from search.tune.tuner import build_tuner, fit, make_trainable
from trainables.contract import CANDIDATES_FOLDER, TRIAL_METRICS_FILE

pytestmark = pytest.mark.integration

SHIPPED = Path(__file__).parents[2] / "sweeps" / "minilm_lora.yaml"
# Three configurations of the shipped space, keyed by their learning rate (a grid's axis).
CONFIGS = {
    3e-3: {"weight_decay": 0.05, "lora_dropout": 0.1, "lora_r": 8, "lora_alpha": 16},
    1e-3: {"weight_decay": 0.0, "lora_dropout": 0.2, "lora_r": 4, "lora_alpha": 8},
    5e-3: {"weight_decay": 0.1, "lora_dropout": 0.0, "lora_r": 16, "lora_alpha": 32},
}
ORDER = list(CONFIGS)
COMPARED = ("step", "train_loss", "train_eval_loss", "train_eval_accuracy", "val_loss",
            "val_loss_se", "val_accuracy", "drift", "best_objective")
ADAPTER = "adapter_model.safetensors"


def short(tmp_path: Path, **more: object) -> list[str]:
    """The shipped sweep, two evaluations long (so no rung, no stop rule), W&B off, its runs
    under ``tmp_path``."""
    settings = {"training.max_steps": 30, "scheduler.type": "fifo", "stopping.not_learning":
                "null", "stopping.gap": "null", "tracking.wandb.mode": "disabled",
                "output_dir": str(tmp_path / "runs"), **more}
    return [f"{key}={value}" for key, value in settings.items()]


def candidates(trial_folder: Path) -> dict[int, dict]:
    """Each evaluation's reported figures and saved adapter tensors, by step."""
    found = {}
    for metrics_file in (trial_folder / CANDIDATES_FOLDER).glob(f"*/{TRIAL_METRICS_FILE}"):
        metrics = json.loads(metrics_file.read_text())
        found[metrics["step"]] = {"figures": {name: metrics[name] for name in COMPARED},
                                  "adapter": load_file(str(metrics_file.parent / ADAPTER))}
    return found


def sweep_in_order(tmp_path: Path, name: str, order: list[float], at_once: int) -> dict:
    """The configurations on ``at_once`` warm slots, started in ``order``: each one's
    candidates and the worker process it ran in, by learning rate."""
    spec = load_spec(str(SHIPPED), short(tmp_path / name, **{
        "search.max_concurrent_trials": at_once, "resources.warm_workers": True}))
    run = RunDir.create(spec)
    space = {"learning_rate": tune.grid_search(order)}
    for field in CONFIGS[order[0]]:
        space[field] = tune.sample_from(
            lambda s, field=field: CONFIGS[s.config.learning_rate][field])
    results = fit(build_tuner(spec, run, name=run.path.name, trainable=make_trainable(spec),
                              param_space=space), run)
    return {result.config["learning_rate"]: {
        "candidates": candidates(Path(result.path)),
        "pid": int(result.metrics_dataframe["worker_pid"].iloc[0]),
        "warm": bool(result.metrics_dataframe["warm_start"].iloc[0])} for result in results}


def trained_fresh(tmp_path: Path, rate: float) -> dict[int, dict]:
    """``basin train`` of one configuration, in a process of its own."""
    values = {"space.learning_rate": rate,
              **{f"space.{field}": value for field, value in CONFIGS[rate].items()}}
    out = tmp_path / f"fresh-{rate}"
    command = [sys.executable, "-m", "search.cli", "train", str(SHIPPED), "--out", str(out)]
    for setting in short(tmp_path, **values):
        command += ["--set", setting]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    # Only basin's lines reach the terminal; what the libraries say (transformers' load report
    # of the new classifier head, DeepSpeed's warnings, progress bars) is in its driver.log.
    assert done.stderr == "", done.stderr
    assert all(line.startswith(("data: ", "basin: ", "best ", " ")) for line in
               done.stdout.splitlines()), done.stdout
    assert "LOAD REPORT" in (out / "driver.log").read_text()
    return candidates(out)


def assert_same(trial: dict[int, dict], twin: dict[int, dict], what: str) -> None:
    assert sorted(trial) == sorted(twin) == [15, 30], what
    for step in trial:
        assert trial[step]["figures"] == twin[step]["figures"], (what, step)
        mine, theirs = trial[step]["adapter"], twin[step]["adapter"]
        assert mine.keys() == theirs.keys(), (what, step)
        # The adapter with the classifier's head: torch.equal is bit for bit.
        assert all(mine[key].equal(theirs[key]) for key in mine), (what, step)


def test_the_default_task_trains_the_same_warm_fresh_in_any_order_and_concurrency(tmp_path):
    one_slot = sweep_in_order(tmp_path, "one-slot", ORDER, at_once=1)
    two_slots = sweep_in_order(tmp_path, "two-slots", ORDER[::-1], at_once=2)

    # One process ran A, B and C; on two slots, one of the two processes ran two of them.
    assert len({trial["pid"] for trial in one_slot.values()}) == 1
    assert [one_slot[rate]["warm"] for rate in ORDER] == [False, True, True]
    assert len({trial["pid"] for trial in two_slots.values()}) == 2
    assert sum(trial["warm"] for trial in two_slots.values()) == 1

    for rate in ORDER:
        fresh = trained_fresh(tmp_path, rate)
        assert_same(one_slot[rate]["candidates"], fresh, f"one warm slot, lr {rate}")
        assert_same(two_slots[rate]["candidates"], fresh, f"two warm slots, lr {rate}")
    # Three configurations, three different curves: the comparison could tell them apart.
    assert len({one_slot[rate]["candidates"][30]["figures"]["val_loss"] for rate in ORDER}) == 3
