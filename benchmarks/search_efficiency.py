"""Search efficiency: which configuration each search method picks, how well it holds up on a
test split no method saw, and how much training it took to find it.

Methods (same model, search space, data, trial budget and seeds):

  random  random search, every trial trained to the full budget (the reference)
  ray     Ray Tune's OptunaSearch (TPE) + ASHAScheduler as Ray ships them, on basin's trainable
  hf      transformers' Trainer.hyperparameter_search(backend="optuna") with Optuna's
          SuccessiveHalvingPruner
  basin   basin as shipped: TPE told each trial's outcome + ASHA + the sweep file's stopping
          rules + its selection criterion; every other selection criterion is applied to the
          same runs and scored too (no extra search compute)

Every (task, seed, method) runs in a fresh Python process, one after another, so each gets a
fresh Ray and the whole machine. Afterwards what each method hands on is scored once on the
test split (not counted as search compute): basin's and random search's chosen checkpoints
as they are; Ray's and HF's chosen configurations, which they keep no checkpoint of, are
trained once more with basin's loop and scored at their best validation step.

    python -m benchmarks.search_efficiency                  # both tasks, seeds 0-4
    python -m benchmarks.search_efficiency --resume         # finish an interrupted run
    python -m benchmarks.search_efficiency --smoke          # tiny random model, a minute
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.common import (
    DEFAULT_WORK_DIR,
    PROJECT_DIR,
    RESULTS_DIR,
    SMOKE_MODEL,
    SST2_TSV,
    Stopwatch,
    carve_sst2,
    machine_facts,
    merge,
    save_json,
    score_checkpoint_on_test,
    score_on_test,
)
from benchmarks.search_methods import DEFAULT_METHODS, METHODS
from benchmarks.search_tables import default_criterion_verdict, summarise
from search.spec.model import SweepSpec, validate_spec

TASKS = ("demo", "sst2")
SST2_SIZES = {"train": 500, "validation": 300, "test": 1000}

# One budget and one ASHA setting for every method, fixed before any run: 10 trials of at
# most 120 optimizer steps, an evaluation every 15 steps, 2 trials at a time (2 CPU cores);
# ASHA (and the Optuna pruner standing in for it under HF) may stop a trial from step 30, and
# keeps the best third at each rung. basin's stopping rules and selection are the sweep
# files' own (as shipped).
BUDGET = {
    "training": {"max_steps": 120, "eval_every": 15, "micro_batch_size": 16, "seed": 0},
    "search": {"num_trials": 10, "max_concurrent_trials": 2},
    "scheduler": {"type": "asha", "grace_period": 30, "reduction_factor": 3},
    "tracking": {"wandb": {"mode": "disabled"}},
}
def task_spec(task: str, seed: int, work_dir: Path, smoke: bool) -> SweepSpec:
    """The project's own sweep file for the task, with the benchmark's budget and seed."""
    import yaml

    source = {"demo": "minilm_lora.yaml", "sst2": "sst2_files.yaml"}[task]
    raw = yaml.safe_load((PROJECT_DIR / "sweeps" / source).read_text())
    raw = merge(raw, BUDGET)
    raw = merge(raw, {"name": f"bench-{task}", "output_dir": str(work_dir / "runs"),
                       "training": {"seed": seed}, "search": {"seed": seed}})
    if task == "sst2":
        files = carve_sst2(work_dir / "sst2", SST2_SIZES, seed=0)
        raw["data"] = merge({k: v for k, v in raw["data"].items()
                              if k not in ("max_train_examples", "validation_fraction")},
                             {"train_file": files["train"], "validation_file": files["validation"],
                              "test_file": files["test"], "max_length": 32})
        # The same adapters as the demo task: LoRA on every linear layer tripled a trial's time.
        raw["model"]["lora_target_modules"] = ["query", "value"]
    if smoke:
        raw = merge(raw, {"model": SMOKE_MODEL, "training": {"max_steps": 8, "eval_every": 4},
                           "search": {"num_trials": 3},
                           "scheduler": {"grace_period": 4},
                           "stopping": {"gap": {"grace_steps": 4}}})
        raw["data"]["demo"] = {"train_size": 64, "validation_size": 64, "test_size": 64}
    return validate_spec(raw, f"benchmark:{task}")


def run_one(method: str, task: str, seed: int, work_dir: Path, smoke: bool) -> dict[str, Any]:
    """Search with one method, then score what it hands on on the test split."""
    spec = task_spec(task, seed, work_dir, smoke)
    with Stopwatch() as clock:
        found = METHODS[method](spec, work_dir)
    result = {"method": method, "task": task, "seed": seed, "wall_s": clock.wall_s,
              "cpu_s": clock.cpu_s, **found}
    if "choices" in found:  # checkpoints: scored as they are, each distinct one once
        scores: dict[str, dict] = {}
        for name, choice in found["choices"].items():
            if choice is None:
                continue
            if choice["checkpoint"] not in scores:
                scores[choice["checkpoint"]] = score_checkpoint_on_test(
                    spec, choice["params"], choice["checkpoint"])
            choice.update(scores[choice["checkpoint"]])
        chosen = found["choices"]["sweep"]
        result.update({f"chosen_{k}": chosen.get(k) for k in ("test_loss", "test_accuracy")}
                      if chosen else {})
    elif found.get("chosen") is not None:
        result.update({f"chosen_{k}": v for k, v in score_on_test(spec, found["chosen"]).items()})
    return result


def _run_child(method: str, task: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    out = args.work_dir / f"{task}-{seed}-{method}.json"
    command = [sys.executable, "-m", "benchmarks.search_efficiency", "--child", method, task,
               str(seed), "--work-dir", str(args.work_dir), "--child-out", str(out)]
    if args.smoke:
        command.append("--smoke")
    subprocess.run(command, check=True, cwd=PROJECT_DIR)
    return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--methods", nargs="+", choices=list(METHODS),
                        default=list(DEFAULT_METHODS),
                        help="default: %(default)s; also basin-freeze (issue 30's freezing "
                        "scheduler) and basin-asha-again (basin run again, RESULTS.md section 6)")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR / "search",
                        help="scratch folder for runs and carved data (default: %(default)s)")
    parser.add_argument("--sst2", type=Path, default=SST2_TSV, help="SST-2 train.tsv")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny random model, 3 trials of 8 steps, demo task, one seed")
    parser.add_argument("--resume", action="store_true",
                        help="keep figures already in the results file; run only what is missing")
    parser.add_argument("--child", nargs=3, metavar=("METHOD", "TASK", "SEED"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        method, task, seed = args.child
        result = run_one(method, task, int(seed), args.work_dir, args.smoke)
        args.child_out.write_text(json.dumps(result, default=str))
        return

    if args.smoke:
        args.tasks, args.seeds = ["demo"], [0]
    results_dir = args.work_dir if args.smoke else RESULTS_DIR
    results_file = results_dir / "search_efficiency.json"
    rows = (json.loads(results_file.read_text())["runs"]
            if args.resume and results_file.is_file() else [])
    args.work_dir.mkdir(parents=True, exist_ok=True)
    for task in args.tasks:
        for seed in args.seeds:
            for method in args.methods:  # methods interleaved, so drift hits all of them
                if any((r["task"], r["seed"], r["method"]) == (task, seed, method) for r in rows):
                    continue
                print(f"== {task} seed {seed}: {method}", flush=True)
                rows.append(_run_child(method, task, seed, args))
                save_json("search_efficiency", {"machine": machine_facts(), "budget": BUDGET,
                                                "runs": rows}, results_dir)
    for task in args.tasks:
        print(summarise(rows, task))
    print(default_criterion_verdict(rows))


if __name__ == "__main__":
    main()
