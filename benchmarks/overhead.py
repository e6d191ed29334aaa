"""Framework overhead: what basin adds on top of Ray Tune, and where a real trial's time goes.

Part 1 runs the same trivial trainable (sleeps 1 s, reports once) N times, 2 at a time,
through raw Ray Tune (its defaults, and with its actor reuse on) and through basin's sweep
(Optuna searcher with its journal, rule stopper, stop ledger, progress printer, W&B tracker
writing from its own thread, warm workers), alternating, several repeats, one Ray instance.

Part 2 runs a real sweep (the default sweep file unless --sweep) with a fresh process per trial
and with warm workers, and splits each trial into start-up (its Tune function starting to its
first optimizer step: imports, data, model load, DeepSpeed init; fresh and warm processes apart)
and training, and measures how busy the trial slots were (``benchmarks/trial_anatomy.py``).
With --llm-sweep it does the same for a causal-LM sweep (shortened with --llm-set).

    python -m benchmarks.overhead                    # 64 trials x 1 s, 3 repeats; default sweep
    python -m benchmarks.overhead --repeats 2 --llm-sweep sweeps/smollm2_sft.yaml --llm-set
        search.num_trials=6 training.max_steps=24 scheduler.type=fifo    # (one line)
    python -m benchmarks.overhead --skip-part1 --skip-default-sweep --out overhead-llm
        --llm-sweep sweeps/smollm2_sft.yaml --llm-set ...   # the causal-LM sweep alone
    python -m benchmarks.overhead --smoke            # 8 trials x 0.2 s, 1 repeat; no real sweep
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

from benchmarks.common import (
    DEFAULT_WORK_DIR,
    PROJECT_DIR,
    RESULTS_DIR,
    machine_facts,
    median,
    print_table,
    save_json,
)
from benchmarks.trial_anatomy import compare
from search.spec.model import SweepSpec, validate_spec
from trainables.contract import REPORTED_METRICS, TRAIN_LOSS_CURVE

SLOTS = 2


def sleep_trial(seconds: float) -> Any:
    """A Tune function that sleeps, then reports once like a finished basin trial. A closure,
    so Ray ships it (with ``seconds``) to the workers by value."""

    def trial(config: dict[str, Any], settings: dict[str, Any] | None = None) -> None:
        from ray import tune

        time.sleep(seconds)
        metrics = {name: 0.0 for name in REPORTED_METRICS}
        objective = config["learning_rate"]
        metrics.update(step=1, total_steps=1, val_loss=objective, best_objective=objective,
                       best_step=1, is_final=True, world_size=1, baseline_loss=float("nan"))
        metrics[TRAIN_LOSS_CURVE] = [[1, 0.0]]
        tune.report(metrics)

    return trial


def sleep_spec(trials: int, wandb_mode: str, work_dir: Path) -> SweepSpec:
    """A sweep whose trials the sleep trial stands in for; basin's defaults otherwise."""
    return validate_spec({
        "name": f"overhead-{wandb_mode}",
        "training": {"max_steps": 1, "eval_every": 1},
        "space": {"learning_rate": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True}},
        "search": {"num_trials": trials, "max_concurrent_trials": SLOTS},
        "scheduler": {"type": "fifo"},
        "tracking": {"wandb": {"mode": wandb_mode}},
        "output_dir": str(work_dir),
    }, "benchmark:overhead")


def run_raw_tune(trials: int, seconds: float, work_dir: Path, reuse: bool = False) -> float:
    """Wall seconds of ``Tuner.fit`` with Ray's defaults (random search, FIFO), with or
    without its actor reuse (off by default since Ray 2.10)."""
    from ray import tune

    tuner = tune.Tuner(
        tune.with_resources(sleep_trial(seconds), {"cpu": 1}),
        param_space={"learning_rate": tune.loguniform(1e-4, 1e-2)},
        tune_config=tune.TuneConfig(num_samples=trials, max_concurrent_trials=SLOTS,
                                    metric="val_loss", mode="min", reuse_actors=reuse),
        run_config=tune.RunConfig(name=f"raw-{time.time_ns()}", storage_path=str(work_dir),
                                  verbose=0),
    )
    start = time.perf_counter()
    tuner.fit()
    return time.perf_counter() - start


def run_basin(trials: int, seconds: float, wandb_mode: str, work_dir: Path) -> float:
    """Wall seconds of basin's ``run_trials`` (run dir, study, searcher, stopper, callbacks)."""
    from search.lifecycle.run import run_trials
    from search.store.rundir import RunDir

    spec = sleep_spec(trials, wandb_mode, work_dir)
    start = time.perf_counter()
    run_trials(spec, RunDir.create(spec), quiet=True, function=sleep_trial(seconds))
    return time.perf_counter() - start


def framework_overhead(trials: int, seconds: float, repeats: int, work_dir: Path) -> tuple:
    """Part 1: the sleep trainable through raw Tune and basin, alternating."""
    from search.tune.cluster import start_ray

    start_ray()
    variants = {
        "raw Ray Tune": lambda: run_raw_tune(trials, seconds, work_dir),
        "raw Ray Tune (reuse_actors)": lambda: run_raw_tune(trials, seconds, work_dir, True),
        "basin (W&B disabled)": lambda: run_basin(trials, seconds, "disabled", work_dir),
        "basin (W&B offline)": lambda: run_basin(trials, seconds, "offline", work_dir),
    }
    walls: dict[str, list[float]] = {name: [] for name in variants}
    for repeat in range(repeats):
        for name, run in variants.items():
            walls[name].append(run())
            print(f"repeat {repeat + 1}/{repeats} {name}: {walls[name][-1]:.1f} s", flush=True)
    raw = median(walls["raw Ray Tune"])
    ideal = math.ceil(trials / SLOTS) * seconds
    rows = [[name, f"{median(values):.1f}", " ".join(f"{v:.1f}" for v in values),
             f"{median(values) / raw:.3f}", f"{(median(values) - ideal) / trials:.2f}"]
            for name, values in walls.items()]
    header = ["runner", "wall s (median)", "each repeat", "ratio to raw Tune",
              "overhead s per trial (vs sleeping alone)"]
    title = f"framework overhead: {trials} trials x {seconds:g} s, {SLOTS} at a time"
    return print_table(title, header, rows), walls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=1.0, help="sleep per trial")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sweep", type=Path, default=PROJECT_DIR / "sweeps" / "minilm_lora.yaml",
                        help="real sweep for part 2 (default: %(default)s)")
    parser.add_argument("--llm-sweep", type=Path,
                        help="a causal-LM sweep for part 2 as well (e.g. sweeps/smollm2_sft.yaml)")
    parser.add_argument("--llm-set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="overrides for the causal-LM sweep (to shorten it)")
    parser.add_argument("--skip-part1", action="store_true", help="no sleep trials")
    parser.add_argument("--skip-default-sweep", action="store_true",
                        help="part 2 for --llm-sweep only")
    parser.add_argument("--out", default="overhead",
                        help="name of the figures file in benchmarks/results (default: overhead)")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR / "overhead")
    parser.add_argument("--smoke", action="store_true",
                        help="8 trials x 0.2 s, one repeat, no real sweep")
    args = parser.parse_args()
    if args.smoke:
        args.trials, args.seconds, args.repeats = 8, 0.2, 1
    args.work_dir.mkdir(parents=True, exist_ok=True)

    payload: dict[str, Any] = {"machine": machine_facts(), "trials": args.trials,
                               "seconds": args.seconds}
    tables = []
    if not args.skip_part1:
        table, walls = framework_overhead(args.trials, args.seconds, args.repeats,
                                          args.work_dir)
        payload["walls"] = walls
        tables.append(table)
    if not args.smoke:
        import ray

        ray.shutdown()
        if not args.skip_default_sweep:
            table, variants = compare(args.sweep, args.work_dir)
            payload.update(sweep=str(args.sweep), anatomy=variants)
            tables.append(table)
        if args.llm_sweep:
            table, variants = compare(args.llm_sweep, args.work_dir, args.llm_set)
            payload.update(llm_sweep=str(args.llm_sweep), llm_set=args.llm_set,
                           llm_anatomy=variants)
            tables.append(table)
    save_json(args.out, payload, args.work_dir if args.smoke else RESULTS_DIR)
    print("\n\n".join(tables))


if __name__ == "__main__":
    main()
