"""Part 2 of the overhead benchmark: where a real sweep's trial time goes, and how busy its slots
were, with warm workers and with a fresh process per trial, side by side.

Every trial stamps its reports (``trainables/recipe/loop.py``): when its Tune function started
(``trial_started_at``), how long it took from there to its first optimizer step
(``startup_seconds``: imports, data, model load, DeepSpeed init), whether its process had run a
trial before (``warm_start``), and when it reported last (``reported_at``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from benchmarks.common import median, print_table
from search.spec.model import load_spec


def run_sweep(sweep: Path, work_dir: Path, overrides: list[str]) -> tuple[list[dict], float,
                                                                          int]:
    """Run the sweep once; (a span per trial that reported, wall seconds, slots)."""
    import ray

    from search.lifecycle.run import run_trials
    from search.store.records import collect_records
    from search.store.rundir import RunDir
    from search.tune.cluster import start_ray

    spec = load_spec(sweep, [f"output_dir={work_dir}", *overrides])
    start_ray()
    run = RunDir.create(spec)
    start = time.time()
    run_trials(spec, run, quiet=True)
    wall = time.time() - start
    ray.shutdown()
    folders = run.trial_folders()
    spans = []
    for record in collect_records(run):
        reports = [r for r in run.history(folders[record.trial_id]) if "trial_started_at" in r]
        if reports:
            first = reports[0]
            spans.append({"trial": record.trial_id, "began": first["trial_started_at"],
                          "ended": reports[-1]["reported_at"],
                          "startup_s": first["startup_seconds"],
                          "warm": bool(first.get("warm_start", False)),
                          "status": record.outcome.label})
    return spans, wall, spec.search.max_concurrent_trials or 1


def figures(spans: list[dict], wall: float, slots: int) -> dict[str, Any]:
    """The anatomy of one sweep.

    ``busy_share``: trial time (start of its function to its last report) over slots x wall,
    the whole sweep. ``busy_while_queued``: the same within the window from the first trial's
    start to the last trial's start, while a trial was always waiting for a slot: there an
    idle slot is hand-over cost only, not the sweep's tail.
    """
    cold = [s["startup_s"] for s in spans if not s["warm"]]
    warm = [s["startup_s"] for s in spans if s["warm"]]
    training = [s["ended"] - s["began"] - s["startup_s"] for s in spans]
    busy = sum(s["ended"] - s["began"] for s in spans)
    opened, last_start = min(s["began"] for s in spans), max(s["began"] for s in spans)
    window = last_start - opened
    in_window = sum(max(0.0, min(s["ended"], last_start) - max(s["began"], opened))
                    for s in spans)
    return {
        "trials": len(spans),
        "startup_cold_s": cold, "startup_warm_s": warm,
        "training_median_s": median(training) if training else float("nan"),
        "wall_s": wall,
        "busy_share": busy / (slots * wall),
        "busy_while_queued": in_window / (slots * window) if window > 0 else float("nan"),
        "slots": slots,
    }


def _median_of(values: list[float]) -> str:
    return f"{median(values):.2f} (n={len(values)})" if values else "none"


def anatomy_table(title: str, variants: dict[str, dict[str, Any]]) -> str:
    """Print and return the variants' figures side by side, one column each."""
    rows = [
        ["trials", *[str(v["trials"]) for v in variants.values()]],
        ["start-up in a fresh process, s (median)",
         *[_median_of(v["startup_cold_s"]) for v in variants.values()]],
        ["start-up in a warm process, s (median)",
         *[_median_of(v["startup_warm_s"]) for v in variants.values()]],
        ["training per trial, s (median)",
         *[f"{v['training_median_s']:.1f}" for v in variants.values()]],
        ["sweep wall, s", *[f"{v['wall_s']:.0f}" for v in variants.values()]],
        ["slots busy, whole sweep",
         *[f"{v['busy_share']:.1%}" for v in variants.values()]],
        ["slots busy while trials were queued",
         *[f"{v['busy_while_queued']:.1%}" for v in variants.values()]],
    ]
    return print_table(title, ["figure", *variants], rows)


def compare(sweep: Path, work_dir: Path, overrides: list[str] | None = None,
            ) -> tuple[str, dict[str, Any]]:
    """The sweep with a fresh process per trial, then with warm workers (the default)."""
    overrides = overrides or []
    variants: dict[str, dict[str, Any]] = {}
    for name, warm in (("fresh process per trial", False), ("warm workers", True)):
        spans, wall, slots = run_sweep(
            sweep, work_dir, [*overrides, f"resources.warm_workers={str(warm).lower()}"])
        variants[name] = {**figures(spans, wall, slots), "spans": spans}
        print(f"{sweep.name} {name}: {wall:.0f} s", flush=True)
    title = f"trial anatomy: {sweep.name}" + (f" ({' '.join(overrides)})" if overrides else "")
    return anatomy_table(title, variants), variants
