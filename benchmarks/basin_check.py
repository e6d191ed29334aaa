"""Does ``basin check`` help choose? The shipped sweeps, run with their ``check`` block, on
5 seeds each; the configurations that ``objective``, ``one-se`` and ``robust`` hand on from
the same runs scored on the test split once; every checked candidate scored on it too, for the
rank correlation between each signal and the test loss. The protocol is in RESULTS.md
(section 5), written before the runs.

    python -m benchmarks.basin_check                        # both tasks, seeds 0-4
    python -m benchmarks.basin_check --tasks classification --seeds 0 1
    python -m benchmarks.basin_check --resume               # skip (task, seed) already done
    python -m benchmarks.basin_check --report               # tables from the saved figures
    python -m benchmarks.basin_check --smoke                # one tiny run, about a minute

Each (task, seed) sweep runs in a fresh process (``basin run``), alone on the machine; the test
split is scored afterwards in this process and is not part of any sweep's time.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.check_tables import report
from benchmarks.common import (
    DEFAULT_WORK_DIR,
    PROJECT_DIR,
    RESULTS_DIR,
    Stopwatch,
    machine_facts,
    run_missing,
    save_json,
)

SWEEPS = {"classification": "sweeps/minilm_lora.yaml", "causal-lm": "sweeps/smollm2_sft.yaml"}
CRITERIA = ("objective", "one-se", "robust")
RESULTS_NAME = "basin_check"
# The smoke run: the default sweep cut to 2 short trials and a 2-candidate check.
SMOKE_SETS = ["search.num_trials=2", "search.max_concurrent_trials=2", "training.max_steps=20",
              "training.eval_every=10", "scheduler.type=fifo", "check.top=2"]


def run_sweep(task: str, seed: int, work: Path, extra: list[str]) -> dict[str, Any]:
    """``basin run`` of the task's shipped sweep with this seed (sampler and training), W&B
    off; returns the run directory, wall time and the check's cost line."""
    out = work / f"{task}-seed{seed}"
    command = [sys.executable, "-m", "search.cli.main", "run", SWEEPS[task], "--quiet",
               "--set", f"search.seed={seed}", "--set", f"training.seed={seed}",
               "--set", "tracking.wandb.mode=disabled", "--set", f"output_dir={out}",
               "--set", "check.enabled=true", *extra]  # the shipped sweeps leave it off
    with Stopwatch() as clock:
        done = subprocess.run(command, cwd=PROJECT_DIR, capture_output=True, text=True)
    (work / f"{task}-seed{seed}.log").write_text(done.stdout + done.stderr)
    runs = sorted(p for p in out.iterdir() if p.is_dir()) if out.is_dir() else []
    cost = re.search(r"check: \d+ candidates in ([\d.]+) s, ([\d.]+)% of the sweep's (\d+) s",
                     done.stdout)
    return {"exit_code": done.returncode, "run_dir": str(runs[-1]) if runs else None,
            "wall_s": clock.wall_s, "cpu_s": clock.cpu_s,
            "check_s": float(cost.group(1)) if cost else None,
            "check_share": float(cost.group(2)) / 100 if cost else None,
            "sweep_s": float(cost.group(3)) if cost else None}


def score(spec: Any, params: dict, checkpoint: str, cache: dict[str, dict]) -> dict[str, float]:
    """The checkpoint's test figures (scored once per checkpoint: a choice several criteria
    share, or a checked candidate that is also a choice, is not scored again)."""
    if checkpoint not in cache:
        import torch

        from search.spec.model import trial_settings
        from trainables.check.scoring import score_checkpoint
        from trainables.settings import Hyperparameters

        torch.set_num_threads(2)
        test = score_checkpoint(Hyperparameters(**params), trial_settings(spec), checkpoint)
        cache[checkpoint] = {f"test_{name}": value for name, value in test.items()}
    return cache[checkpoint]


def measure(task: str, seed: int, work: Path, extra: list[str]) -> dict[str, Any]:
    """One (task, seed): the sweep, each criterion's choice and every checked candidate,
    scored on the test split."""
    from search.selection import OneStandardErrorCriterion, RobustCriterion
    from search.selection.objective import ObjectiveCriterion
    from search.store.reading import read_run

    row: dict[str, Any] = {"task": task, "seed": seed, **run_sweep(task, seed, work, extra)}
    if row["run_dir"] is None or not Path(row["run_dir"], "check.json").is_file():
        return row | {"failed": "no run directory with a check.json (see the log)"}
    reading = read_run(row["run_dir"])
    run, records = reading.run, reading.records
    gaps = {(r.trial_id, e["step"]): e.get("gap") for r in records for e in r.evaluations}
    cache: dict[str, dict] = {}
    criteria = {"objective": ObjectiveCriterion(), "one-se": OneStandardErrorCriterion(),
                "robust": RobustCriterion()}
    row["choices"] = {}
    for name in CRITERIA:
        chosen = reading.choice(criterion=criteria[name]).chosen
        if chosen is not None:
            row["choices"][name] = {"trial_id": chosen.trial_id, "step": chosen.step,
                                    "val_loss": chosen.val_loss,
                                    **score(run.spec, chosen.params, chosen.checkpoint, cache)}
    pool = {(c.trial_id, c.step): c for c in reading.choice().ranked}
    row["candidates"], row["checked"] = len(pool), []
    for entry in reading.check_report["candidates"]:
        candidate = pool[(entry["trial_id"], entry["step"])]
        row["checked"].append({
            "trial_id": entry["trial_id"], "step": entry["step"],
            "val_loss": candidate.val_loss, "gap": gaps.get((entry["trial_id"], entry["step"])),
            "basin_radius": entry["basin_radius"], "drift": candidate.drift,
            **score(run.spec, candidate.params, candidate.checkpoint, cache)})
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", nargs="+", choices=list(SWEEPS), default=list(SWEEPS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--resume", action="store_true", help="keep (task, seed) already done")
    parser.add_argument("--report", action="store_true", help="print the tables only")
    parser.add_argument("--smoke", action="store_true",
                        help="classification seed 0, 2 short trials, figures in --work-dir")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR / RESULTS_NAME)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR,
                        help="where the raw figures go [benchmarks/results]")
    parser.add_argument("--set", dest="extra", action="append", default=[], metavar="KEY=VALUE",
                        help="a --set for every sweep (smoke runs only; never in the protocol)")
    args = parser.parse_args()
    if args.smoke:
        args.tasks, args.seeds, args.out = ["classification"], [0], args.work_dir
        args.extra += SMOKE_SETS
    path = args.out / f"{RESULTS_NAME}.json"
    saved = json.loads(path.read_text()) if path.is_file() and (args.resume or args.report) \
        else {"machine": machine_facts(), "runs": []}
    if not args.report:
        args.work_dir.mkdir(parents=True, exist_ok=True)
        extra = [part for value in args.extra for part in ("--set", value)]
        run_missing(saved, "task", args.tasks, args.seeds,
                    lambda task, seed: measure(task, seed, args.work_dir, extra),
                    lambda: save_json(RESULTS_NAME, saved, args.out))
    print(report(saved["runs"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
