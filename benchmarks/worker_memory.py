"""Does a warm worker's memory stay flat? One slot, ten trials in a row, the worker's resident
memory (RSS) sampled from outside while ``basin run`` works (issue 34: "a warm worker that ran N
trials holds the same resident memory, within 10%, as after its first").

    python -m benchmarks.worker_memory                     # the default sweep and SmolLM2
    python -m benchmarks.worker_memory --sweeps default    # one of them
    python -m benchmarks.worker_memory --smoke             # a tiny model, 3 trials (a test)

Each sweep runs as shipped except: one trial at a time (so one warm worker runs them all), 10
trials, W&B off, its own output folder; the SmolLM2 sweep with 16 steps (an evaluation every 8,
ASHA's first rung at 8) so that ten trials take minutes, not hours: memory is held by what a
trial loads and keeps, not by how long it trains. A thread samples every 0.25 s the resident
memory of every Ray trial process (``ray::ImplicitFunc``) below the ``basin run`` it started,
nothing else on the machine. Per trial: the worker's RSS at its last report, and the peak while
it ran.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from benchmarks.common import (
    DEFAULT_WORK_DIR,
    PROJECT_DIR,
    RESULTS_DIR,
    SMOKE_MODEL,
    machine_facts,
    print_table,
    save_json,
)

SWEEPS = {"default": ("sweeps/minilm_lora.yaml", []),
          # The shipped first rung (24 steps) must fit the 16 steps: ASHA's at 8.
          "smollm2": ("sweeps/smollm2_sft.yaml", ["training.max_steps=16",
                                                  "training.eval_every=8",
                                                  "scheduler.grace_period=8"])}
COMMON = ["search.num_trials=10", "search.max_concurrent_trials=1",
          "tracking.wandb.mode=disabled"]
SMOKE = ["search.num_trials=3", "training.max_steps=4", "training.eval_every=2",
         "scheduler.type=fifo",
         "data.demo.train_size=16", "data.demo.validation_size=8", "data.demo.test_size=8",
         "model.name=tiny-bert", "model.lora_target_modules=[query, value]",
         "model.random_init_config=" + json.dumps(SMOKE_MODEL["random_init_config"])]
TRIAL_PROCESS = "ImplicitFunc"
GROWTH_BAR = 0.10


class Sampler(threading.Thread):
    """Samples (time, pid, rss bytes) of the trial processes below ``root`` until stopped."""

    def __init__(self, root: int, every: float = 0.25):
        super().__init__(daemon=True)
        self.root, self.every = root, every
        self.samples: list[tuple[float, int, int]] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                below = psutil.Process(self.root).children(recursive=True)
            except psutil.Error:
                break
            now = time.time()
            for process in below:
                try:
                    if TRIAL_PROCESS in " ".join(process.cmdline()):
                        self.samples.append((now, process.pid, process.memory_info().rss))
                except psutil.Error:
                    continue
            self.done.wait(self.every)


def trial_windows(run_dir: Path) -> list[dict[str, Any]]:
    """Each trial's (worker pid, start, last report), in the order they ran."""
    trials = []
    for result in run_dir.glob("*/result.json"):
        rows = [json.loads(line) for line in result.read_text().splitlines() if line.strip()]
        if rows:
            trials.append({"trial": result.parent.name, "pid": rows[-1]["pid"],
                           "started": rows[0].get("trial_started_at", rows[0]["timestamp"]),
                           "ended": rows[-1]["reported_at"], "steps": rows[-1]["step"],
                           "warm": bool(rows[0].get("warm_start"))})
    return sorted(trials, key=lambda t: t["started"])


def per_trial(samples: list[tuple[float, int, int]], trials: list[dict]) -> list[dict]:
    """The worker's RSS (MiB) at each trial's last report and its peak during the trial."""
    rows = []
    for number, trial in enumerate(trials, 1):
        mine = [(t, rss) for t, pid, rss in samples if pid == trial["pid"]]
        during = [rss for t, rss in mine if trial["started"] <= t <= trial["ended"]]
        before_end = [rss for t, rss in mine if t <= trial["ended"]]
        rows.append({**trial, "number": number,
                     "rss_at_end_mib": round(before_end[-1] / 2**20, 1) if before_end else None,
                     "peak_mib": round(max(during) / 2**20, 1) if during else None})
    return rows


def measure(name: str, work: Path, smoke: bool) -> dict[str, Any]:
    """One sweep, one slot; the figures per trial and the growth from the first trial on."""
    sweep_file, extra = SWEEPS[name]
    folder = work / name
    shutil.rmtree(folder, ignore_errors=True)  # one run directory: this run's
    sets = [*COMMON, *extra, *(SMOKE if smoke else []), f"output_dir={folder}"]
    command = [sys.executable, "-m", "search.cli.main", "run", sweep_file, "--quiet",
               *[part for value in sets for part in ("--set", value)]]
    started = time.time()
    driver = subprocess.Popen(command, cwd=PROJECT_DIR, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    sampler = Sampler(driver.pid)
    sampler.start()
    output, _ = driver.communicate()
    sampler.done.set()
    sampler.join()
    if driver.returncode != 0:
        raise SystemExit(f"{name}: basin run failed ({driver.returncode}):\n{output[-3000:]}")
    (run_dir,) = [p for p in folder.iterdir() if p.is_dir()]
    rows = per_trial(sampler.samples, trial_windows(run_dir))
    ends = [r["rss_at_end_mib"] for r in rows if r["rss_at_end_mib"] is not None]
    growth = ends[-1] / ends[0] - 1 if len(ends) > 1 else None
    return {"sweep": name, "command": " ".join(command[1:]), "wall_s": round(time.time() - started),
            "workers": sorted({r["pid"] for r in rows}), "trials": rows,
            "growth_last_vs_first": None if growth is None else round(growth, 4),
            "samples": len(sampler.samples)}


def show(results: list[dict[str, Any]]) -> None:
    """A markdown table per sweep, and its growth against the bar."""
    for result in results:
        rows = [[row["number"], row["trial"], "yes" if row["warm"] else "no", row["steps"],
                 row["rss_at_end_mib"], row["peak_mib"]] for row in result["trials"]]
        title = (f"{result['sweep']}: one slot, worker processes {result['workers']}, "
                 f"{result['wall_s']} s")
        markdown = print_table(title, ["trial", "id", "warm start", "steps", "RSS at end (MiB)",
                                       "peak (MiB)"], rows)
        print(markdown)
        growth = result["growth_last_vs_first"]
        verdict = "-" if growth is None else ("within" if abs(growth) <= GROWTH_BAR else "OVER")
        print(f"growth, the last trial's RSS against the first's: "
              f"{'-' if growth is None else f'{growth:+.1%}'} ({verdict} the 10% bar)\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sweeps", nargs="+", choices=list(SWEEPS), default=list(SWEEPS))
    parser.add_argument("--smoke", action="store_true", help="a tiny model, 3 trials")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR / "worker_memory")
    args = parser.parse_args()
    args.work_dir.mkdir(parents=True, exist_ok=True)
    sweeps = ["default"] if args.smoke else args.sweeps
    results = []
    for name in sweeps:  # each sweep's figures saved as soon as it ends
        print(f"{name}: basin run, one slot ...", flush=True)
        results.append(measure(name, args.work_dir, args.smoke))
        print(f"{name}: done in {results[-1]['wall_s']} s", flush=True)
        save_json("worker_memory", {"machine": machine_facts(), "sweeps": results},
                  args.work_dir if args.smoke else RESULTS_DIR)
    show(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
