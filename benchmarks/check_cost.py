"""What ``basin check`` costs on the default sweep, and proof that a faster check measures the
same figures. The protocol is in RESULTS.md (section 5b), written before the runs.

    python -m benchmarks.check_cost --recheck     # basin check again on basin_check.py's runs
    python -m benchmarks.check_cost --recheck --task causal-lm --seeds 0 1
    python -m benchmarks.check_cost --sweeps      # the default sweep, seeds 0-4, end to end
    python -m benchmarks.check_cost --report      # the tables from the saved figures
    python -m benchmarks.check_cost --smoke       # one tiny sweep and its recheck, a minute
    python -m benchmarks.check_cost --smoke --smoke-run WORK/basin_check.json  # its recheck only

``--recheck`` copies each classification (or ``--task``) run that ``benchmarks/basin_check.py``
left in its work folder and runs ``basin check`` on the copy in a fresh process: the same
candidates and settings, today's code. Every figure is compared with the run's own check.json,
and the check's seconds are set against that run's sweep. ``--sweeps`` runs the shipped
default sweep (``sweeps/minilm_lora.yaml``, its ``check: {top: 5}``) as ``basin run`` and
reads the cost line it prints. Alone on the machine, one process at a time.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path
from statistics import median
from typing import Any

from benchmarks.basin_check import RESULTS_NAME as CHECK_RESULTS
from benchmarks.basin_check import SMOKE_SETS, SWEEPS, run_sweep
from benchmarks.common import (
    DEFAULT_WORK_DIR,
    PROJECT_DIR,
    RESULTS_DIR,
    machine_facts,
    print_table,
    save_json,
)

RESULTS_NAME = "check_cost"
TARGET = 0.15  # the limit: the check under 15% of the default sweep's wall time


def differences(old: dict, new: dict) -> dict[str, Any]:
    """How the re-measured check differs from the saved one, candidate by candidate: whether
    every radius is the same, and the largest relative change of a loss figure."""
    pairs = list(zip(old["candidates"], new["candidates"]))
    same_candidates = len(old["candidates"]) == len(new["candidates"]) and all(
        (a["trial_id"], a["step"]) == (b["trial_id"], b["step"]) for a, b in pairs)
    losses = [(a["val_loss"], b["val_loss"]) for a, b in pairs]
    losses += [(a["increase"][r], b["increase"][r]) for a, b in pairs for r in a["increase"]]
    return {"same_candidates": same_candidates,
            "same_radius": all(a["basin_radius"] == b["basin_radius"] for a, b in pairs),
            "max_relative_loss_change": max(abs(a - b) / max(abs(a), 1e-12) for a, b in losses),
            "max_absolute_loss_change": max(abs(a - b) for a, b in losses)}


def recheck(run: dict, work: Path) -> dict[str, Any]:
    """``basin check`` on a copy of one saved run, against the run's own check."""
    original = Path(run["run_dir"])
    copy = work / f"recheck-{run['task']}-seed{run['seed']}" / original.name
    shutil.rmtree(copy.parent, ignore_errors=True)
    shutil.copytree(original, copy)
    done = subprocess.run([sys.executable, "-m", "search.cli.main", "check", str(copy)],
                          cwd=PROJECT_DIR, capture_output=True, text=True)
    (copy.parent.with_suffix(".log")).write_text(done.stdout + done.stderr)
    row = {"seed": run["seed"], "exit_code": done.returncode, "sweep_s": run["sweep_s"],
           "old_check_s": run["check_s"]}
    if done.returncode:
        return row | {"failed": "basin check failed (see the log)"}
    old = json.loads((original / "check.json").read_text())
    new = json.loads((copy / "check.json").read_text())
    return row | {"check_s": new["seconds"], "check_share": new["seconds"] / run["sweep_s"],
                  **differences(old, new)}


def recheck_table(rows: list[dict]) -> str:
    header = ["task", "seed", "sweep s", "check s before", "check s now", "share before",
              "share now", "same radii", "same drift", "max rel. loss change",
              "max abs. loss change"]
    body = [[r.get("task", "classification"), r["seed"], f"{r['sweep_s']:.0f}",
             f"{r['old_check_s']:.1f}",
             f"{r['check_s']:.1f}", f"{r['old_check_s'] / r['sweep_s']:.1%}",
             f"{r['check_share']:.1%}", r["same_radius"],
             r.get("same_drift", "-"),  # the check measured the drift until retention did
             f"{r['max_relative_loss_change']:.1e}", f"{r['max_absolute_loss_change']:.1e}"]
            for r in rows if "check_s" in r]
    return print_table("basin check again on the benchmark's runs (same candidates)", header,
                       body)


def sweeps_table(rows: list[dict]) -> str:
    done = [r for r in rows if r.get("check_share") is not None]
    header = ["seed", "sweep s", "check s", "share"]
    body = [[r["seed"], f"{r['sweep_s']:.0f}", f"{r['check_s']:.1f}",
             f"{r['check_share']:.1%}"] for r in done]
    if done:
        shares = [r["check_share"] for r in done]
        body.append(["median", f"{median(r['sweep_s'] for r in done):.0f}",
                     f"{median(r['check_s'] for r in done):.1f}",
                     f"{median(shares):.1%} (max {max(shares):.1%}): "
                     f"{'met' if median(shares) < TARGET else 'missed'}"])
    return print_table("the default sweep end to end (basin run's cost line)", header, body)


def report(saved: dict) -> str:
    parts = [recheck_table(saved["recheck"]), sweeps_table(saved["sweeps"])]
    failed = [f"{kind} seed {r['seed']}: {r['failed']}" for kind in ("recheck", "sweeps")
              for r in saved[kind] if r.get("failed")]
    return "\n\n".join(parts + (["Failed: " + "; ".join(failed)] if failed else []))


def smoke(work: Path, checked: Path | None = None) -> int:
    """The default sweep cut to 2 short trials, then ``basin check`` again on it; with
    ``checked``, the run that ``basin_check.py --smoke`` made of the same sweep (the figures it
    wrote there) instead of a second one."""
    work.mkdir(parents=True, exist_ok=True)
    if checked is not None:
        (sweep,) = json.loads(checked.read_text())["runs"]
    else:
        sweep = run_sweep("classification", 0, work,
                          [part for value in SMOKE_SETS for part in ("--set", value)])
    saved = {"machine": machine_facts(), "sweeps": [{"seed": 0, **sweep}], "recheck": []}
    if sweep["check_s"] is not None:
        run = {"task": "classification", "seed": 0, **sweep}
        saved["recheck"].append({"task": "classification", **recheck(run, work)})
    save_json(RESULTS_NAME, saved, work)
    print(report(saved))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recheck", action="store_true",
                        help="basin check again on basin_check.py's classification runs")
    parser.add_argument("--sweeps", action="store_true",
                        help="the default sweep end to end on --seeds")
    parser.add_argument("--task", choices=list(SWEEPS), default="classification",
                        help="whose basin_check.py runs --recheck measures [classification]")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--report", action="store_true", help="print the tables only")
    parser.add_argument("--smoke", action="store_true",
                        help="one tiny sweep and its recheck; figures in --work-dir")
    parser.add_argument("--smoke-run", type=Path, metavar="BASIN_CHECK_JSON",
                        help="with --smoke: recheck the run basin_check.py --smoke recorded "
                        "in this file instead of running the same sweep again")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR / RESULTS_NAME)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args()
    if args.smoke:
        return smoke(args.work_dir, args.smoke_run)
    path = args.out / f"{RESULTS_NAME}.json"
    saved = json.loads(path.read_text()) if path.is_file() else \
        {"machine": machine_facts(), "recheck": [], "sweeps": []}
    args.work_dir.mkdir(parents=True, exist_ok=True)
    if args.recheck and not args.report:
        runs = json.loads((RESULTS_DIR / f"{CHECK_RESULTS}.json").read_text())["runs"]
        mine = [r for r in runs if r["task"] == args.task and r["seed"] in args.seeds]
        saved["recheck"] = [r for r in saved["recheck"] if r.get("task", "classification")
                            != args.task or r["seed"] not in args.seeds]
        for run in mine:
            print(f"== recheck {args.task} seed {run['seed']}", flush=True)
            saved["recheck"].append({"task": args.task, **recheck(run, args.work_dir)})
            save_json(RESULTS_NAME, saved, args.out)
    if args.sweeps and not args.report:
        for seed in args.seeds:
            if any(r["seed"] == seed for r in saved["sweeps"]):
                continue  # resumes: a seed already measured is kept
            print(f"== sweep seed {seed}", flush=True)
            row = run_sweep("classification", seed, args.work_dir, [])
            saved["sweeps"].append({"seed": seed, **row})
            save_json(RESULTS_NAME, saved, args.out)
    print(report(saved))
    return 0


if __name__ == "__main__":
    sys.exit(main())
