"""Sweeps on a Ray head that declares 4 GPUs it does not have (as Ray's own tests do), run in a
process of its own by ``test_gpu_placement.py``: where basin's trials land, with stand-in
trainables that record their resources and ``CUDA_VISIBLE_DEVICES`` instead of training.

    python -m tests.integration.fake_gpus OUT_FOLDER
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import ray

# How many trials of a sweep can hold their resources at once on this head: two 2-GPU trials
# on 4 GPUs; four half-GPU trials (on the head's 16 CPUs). Two workers a trial show a group's
# placement as four would, with half the worker processes to start (each imports torch).
AT_ONCE = {"packed": 2, "halves": 4}
TRIALS = {"packed": 3, "halves": 4}
PATIENCE_SECONDS = 120.0


def _write(out: Path, record: dict[str, Any]) -> None:
    with (out / "placements.jsonl").open("a") as handle:
        handle.write(json.dumps(record) + "\n")


def _hold(out: Path, sweep: str, trial: str, member: str) -> tuple[float, float]:
    """Hold the trial's resources until as many trials of the sweep run at once as the head
    can hold (or as are left to run): the overlaps the test reads are then the scheduler's
    doing, not a race between start-up times. Returns when it started and ended."""
    running, done = out / f"{sweep}-running", out / f"{sweep}-done"
    running.mkdir(exist_ok=True)
    done.mkdir(exist_ok=True)
    started = time.time()
    (running / f"{trial}--{member}").touch()
    deadline = time.monotonic() + PATIENCE_SECONDS
    while time.monotonic() < deadline:
        now = {name.name.split("--")[0] for name in running.iterdir()}
        left = TRIALS[sweep] - len(list(done.iterdir()))
        if len(now) >= min(AT_ONCE[sweep], left):
            break
        time.sleep(0.1)
    time.sleep(0.5)  # so that its peers, polling, see it running too
    (done / trial).touch()
    (running / f"{trial}--{member}").unlink()
    return started, time.time()


def _stand_in_worker(out: Path) -> Any:
    def worker(loop_config: dict) -> None:
        import ray.train

        trial, rank = loop_config["candidates"].trial_path, ray.train.get_context().get_world_rank()
        started, ended = _hold(out, "packed", trial.strip("/").replace("/", "_"), str(rank))
        _write(out, {"kind": "group", "trial": trial, "rank": rank,
                     "gpus": [str(g) for g in ray.get_gpu_ids()],
                     "cuda_visible": os.environ.get("CUDA_VISIBLE_DEVICES"),
                     "node": ray.get_runtime_context().get_node_id(),
                     "start": started, "end": ended})
    return worker


def _group_trial(out: Path) -> Any:
    """A multi-worker trial through basin's own TorchTrainer (its scaling and placement), each
    worker a stand-in; gloo, as the GPUs are only declared."""
    def trial(config: dict, settings: dict) -> None:
        from trainables.settings import Hyperparameters, TrialSettings
        from trainables.trial.entry import worker_group_trainer

        worker_group_trainer(Hyperparameters(), TrialSettings(**settings),
                             worker=_stand_in_worker(out), backend="gloo").fit()
    return trial


def _solo_trial(out: Path) -> Any:
    """A one-worker trial: the Tune function holds the trial's resources itself."""
    def trial(config: dict, settings: dict) -> None:
        from ray import tune

        trial = tune.get_context().get_trial_id()
        started, ended = _hold(out, "halves", trial, "0")
        _write(out, {"kind": "solo", "trial": trial,
                     "gpus": [str(g) for g in ray.get_gpu_ids()],
                     "cuda_visible": os.environ.get("CUDA_VISIBLE_DEVICES"),
                     "start": started, "end": ended})
    return trial


def _spec(out: Path, name: str, trials: int, **resources: Any) -> Any:
    from search.spec.model import validate_spec
    from tests.conftest import tiny_sweep

    raw = tiny_sweep(out / name, search={"num_trials": trials, "seed": 0},
                     resources={"cpus_per_worker": 1, **resources},
                     tracking={"wandb": {"mode": "disabled"}})
    return validate_spec(raw, f"{name}.yaml")


def _sweep(spec: Any, function: Any) -> list[Any]:
    from search.lifecycle.run import run_trials
    from search.lifecycle.start import connect
    from search.store.records import collect_records
    from search.store.rundir import RunDir

    connect(spec, None, "sweep.yaml")
    run = RunDir.create(spec)
    run_trials(spec, run, quiet=True, function=function)
    return collect_records(run)


def main(out: Path) -> None:
    from search.core.errors import SpecError

    # The stand-ins report nothing: no metric for Tune to check.
    os.environ["TUNE_DISABLE_STRICT_METRIC_CHECKING"] = "1"
    # A cluster of its own (not the test session's), on loopback, declaring GPUs this machine
    # lacks.
    ray.init(address="local", num_cpus=16, num_gpus=4, include_dashboard=False,
             log_to_driver=False, _node_ip_address="127.0.0.1")
    found: dict[str, Any] = {}
    _sweep(_spec(out, "packed", 3, workers=2, gpus_per_worker=1,
                 placement_strategy="STRICT_PACK"), _group_trial(out))
    _sweep(_spec(out, "halves", 4, workers=1, gpus_per_worker=0.5), _solo_trial(out))
    try:
        _sweep(_spec(out, "too-big", 1, workers=1, gpus_per_worker=16), _solo_trial(out))
    except SpecError as refused:
        found["refused"] = refused.problems
    records = _sweep(_spec(out, "no-cuda", 1, workers=1, gpus_per_worker=1), None)
    found["no_cuda"] = [r.outcome.as_dict() for r in records]
    (out / "found.json").write_text(json.dumps(found))
    ray.shutdown()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
