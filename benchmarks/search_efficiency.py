"""Search efficiency: which configuration each search method picks, how well it holds up on a
test split no method saw, and how much training it took to find it.

Methods (same model, search space, data, trial budget and seeds):

  random  random search, every trial trained to the full budget (the reference)
  ray     Ray Tune's OptunaSearch (TPE) + ASHAScheduler as Ray ships them, on basin's trainable
  hf      transformers' Trainer.hyperparameter_search(backend="optuna") with Optuna's
          SuccessiveHalvingPruner
  basin   basin: TPE told the truth about pruned trials + ASHA + the gap rule

Every (task, seed, method) runs in a fresh Python process, one after another, so each gets a
fresh Ray and the whole machine. Afterwards the chosen configuration is trained once more with
basin's loop and scored on the test split (not counted as search compute).

    python benchmarks/search_efficiency.py                  # both tasks, seeds 0 1 2
    python benchmarks/search_efficiency.py --smoke          # tiny random model, a minute
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks.common import (  # noqa: E402
    DEFAULT_WORK_DIR,
    PROJECT_DIR,
    RESULTS_DIR,
    SST2_TSV,
    Stopwatch,
    carve_sst2,
    machine_facts,
    mean_sd,
    median,
    print_table,
    save_json,
    score_on_test,
)
from benchmarks.search_methods import METHODS  # noqa: E402
from search.spec import SweepSpec, validate_spec  # noqa: E402

TASKS = ("demo", "sst2")
SST2_SIZES = {"train": 500, "validation": 300, "test": 1000}

# One budget and one pruning setting for every method, fixed before any run: 10 trials of at
# most 120 optimizer steps, an evaluation every 15 steps, 2 trials at a time (2 CPU cores);
# ASHA (and the Optuna pruner standing in for it under HF) may stop a trial from step 30, and
# keeps the best third at each rung.
BUDGET = {
    "training": {"max_steps": 120, "eval_every": 15, "micro_batch_size": 16, "seed": 0},
    "search": {"num_trials": 10, "max_concurrent_trials": 2},
    "scheduler": {"type": "asha", "grace_period": 30, "reduction_factor": 3},
    "gap_pruning": {"enabled": True, "threshold": 0.25, "patience": 2, "grace_steps": 30},
    "tracking": {"wandb": {"mode": "disabled"}},
}
SMOKE_MODEL = {
    "name": "tiny-bert",
    "random_init_config": {"model_type": "bert", "vocab_size": 30522, "hidden_size": 32,
                           "num_hidden_layers": 2, "num_attention_heads": 2,
                           "intermediate_size": 64, "max_position_embeddings": 128},
    "lora_target_modules": ["query", "value"],
}


def _merge(base: dict, extra: dict) -> dict:
    merged = dict(base)
    for key, value in extra.items():
        merged[key] = _merge(base.get(key) or {}, value) if isinstance(value, dict) else value
    return merged


def task_spec(task: str, seed: int, work_dir: Path, smoke: bool) -> SweepSpec:
    """The project's own sweep file for the task, with the benchmark's budget and seed."""
    import yaml

    source = {"demo": "minilm_lora.yaml", "sst2": "sst2_files.yaml"}[task]
    raw = yaml.safe_load((PROJECT_DIR / "sweeps" / source).read_text())
    raw = _merge(raw, BUDGET)
    raw = _merge(raw, {"name": f"bench-{task}", "output_dir": str(work_dir / "runs"),
                       "training": {"seed": seed}, "search": {"seed": seed}})
    if task == "sst2":
        files = carve_sst2(work_dir / "sst2", SST2_SIZES, seed=0)
        raw["data"] = _merge({k: v for k, v in raw["data"].items()
                              if k not in ("max_train_examples", "validation_fraction")},
                             {"train_file": files["train"], "validation_file": files["validation"],
                              "test_file": files["test"], "max_length": 32})
        # The same adapters as the demo task: LoRA on every linear layer tripled a trial's time.
        raw["model"]["lora_target_modules"] = ["query", "value"]
    if smoke:
        raw = _merge(raw, {"model": SMOKE_MODEL, "training": {"max_steps": 8, "eval_every": 4},
                           "search": {"num_trials": 3},
                           "scheduler": {"grace_period": 4}, "gap_pruning": {"grace_steps": 4}})
        raw["data"]["demo"] = {"train_size": 64, "validation_size": 64, "test_size": 64}
    return validate_spec(raw, f"benchmark:{task}")


def run_one(method: str, task: str, seed: int, work_dir: Path, smoke: bool) -> dict[str, Any]:
    """Search with one method, then score its chosen configuration on the test split."""
    spec = task_spec(task, seed, work_dir, smoke)
    with Stopwatch() as clock:
        found = METHODS[method](spec, work_dir)
    result = {"method": method, "task": task, "seed": seed, "wall_s": clock.wall_s,
              "cpu_s": clock.cpu_s, **found}
    scores: dict[str, dict] = {}  # one re-training per distinct configuration
    for which in ("chosen", "any_trial_best"):
        params = found.get(which)
        if params is None:
            continue
        key = json.dumps(params, sort_keys=True)
        if key not in scores:
            scores[key] = score_on_test(spec, params)
        result.update({f"{which}_{k}": v for k, v in scores[key].items()})
    return result


def _run_child(method: str, task: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    out = args.work_dir / f"{task}-{seed}-{method}.json"
    command = [sys.executable, __file__, "--child", method, task, str(seed),
               "--work-dir", str(args.work_dir), "--child-out", str(out)]
    if args.smoke:
        command.append("--smoke")
    subprocess.run(command, check=True, cwd=PROJECT_DIR)
    return json.loads(out.read_text())


WHAT_IF = "basin: best checkpoint of any trial (what-if)"


def summarise(rows: list[dict], task: str) -> str:
    """One table per task: each method's means over seeds, compute relative to random search.

    A method that named no configuration for a seed (basin, when every trial was stopped)
    counts in "seeds answered" but not in the test figures. The what-if row scores, for the
    same basin runs, the best checkpoint of any trial that was not failed or diverged.
    """
    by_method = {m: [r for r in rows if r["task"] == task and r["method"] == m] for m in METHODS}
    by_method = {m: runs for m, runs in by_method.items() if runs}
    if "basin" in by_method:
        by_method[WHAT_IF] = [{**r, **{k.replace("any_trial_best_", "chosen_"): v
                                       for k, v in r.items() if k.startswith("any_trial_best_")}}
                              for r in by_method["basin"]]
    ref = by_method.get("random")
    ref_steps = median(r["steps"] for r in ref) if ref else None
    ref_cpu = median(r["cpu_s"] for r in ref) if ref else None
    header = ["method", "seeds answered", "test loss", "test accuracy", "steps (median)",
              "steps vs random", "CPU-s (median)", "CPU vs random", "wall s (median)",
              "trials stopped early (all seeds)", "as Optuna recorded them"]
    table = []
    for method, runs in by_method.items():
        answered = [r for r in runs if r.get("chosen_test_loss") is not None]
        steps, cpu = median(r["steps"] for r in runs), median(r["cpu_s"] for r in runs)
        stopped, told = Counter(), Counter()
        for r in runs:
            stopped.update(r["stopped"])
            told.update(r.get("optuna_states") or {})
        table.append([
            method, f"{len(answered)}/{len(runs)}",
            mean_sd(r["chosen_test_loss"] for r in answered),
            mean_sd(r["chosen_test_accuracy"] for r in answered), f"{steps:.0f}",
            f"{steps / ref_steps:.0%}" if ref_steps else "-", f"{cpu:.0f}",
            f"{cpu / ref_cpu:.0%}" if ref_cpu else "-", f"{median(r['wall_s'] for r in runs):.0f}",
            ", ".join(f"{n} {why}" for why, n in sorted(stopped.items())) or "none",
            ", ".join(f"{n} {state}" for state, n in sorted(told.items())) or "-",
        ])
    markdown = print_table(f"search efficiency: {task}", header, table)
    return "\n".join([markdown, ""] + verdicts(by_method))


def verdicts(by_method: dict[str, list[dict]]) -> list[str]:
    """The issue's targets, on the means over seeds: basin's chosen configurations score at
    least as well on test as random search's (full budget) with at most 40% of its steps, and
    at least as well as Ray's OptunaSearch + ASHA with no more CPU. A seed where basin named
    no configuration is a miss."""
    if "basin" not in by_method:
        return []
    basin = by_method["basin"]
    answered = [r for r in basin if r.get("chosen_test_loss") is not None]
    lines = []
    for other, budget_key, limit in (("random", "steps", 0.40), ("ray", "cpu_s", 1.0)):
        if other not in by_method:
            continue
        runs = by_method[other]
        share = median(r[budget_key] for r in basin) / median(r[budget_key] for r in runs)
        unit = "steps" if budget_key == "steps" else "CPU-seconds"
        if not answered:
            lines.append(f"- basin vs {other}: basin named no configuration for any seed, "
                         f"{share:.0%} of its {unit}: **missed**")
            continue
        mean = lambda rs, key: sum(r[key] for r in rs) / len(rs)  # noqa: E731
        loss_ok = mean(answered, "chosen_test_loss") <= mean(runs, "chosen_test_loss")
        acc_ok = mean(answered, "chosen_test_accuracy") >= mean(runs, "chosen_test_accuracy")
        met = loss_ok and share <= limit and len(answered) == len(basin)
        lines.append(
            f"- basin vs {other}: test loss {'<=' if loss_ok else '>'} {other}'s "
            f"(accuracy {'>=' if acc_ok else '<'}) on {len(answered)}/{len(basin)} seeds "
            f"answered, {share:.0%} of its {unit} (target <= {limit:.0%}): "
            f"**{'met' if met else 'missed'}**")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+", choices=list(METHODS), default=list(METHODS))
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


if __name__ == "__main__":
    main()
