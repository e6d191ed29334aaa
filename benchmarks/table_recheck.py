"""Does a learning-curve table still describe what basin trains? Re-train a seeded sample of its
configurations with today's code, exactly as the table's build trains them (its sweep, FIFO, no
stopping rule, the test split at every evaluation, two at a time in warm processes), and say how
far each lands from the table.

    python -m benchmarks.table_recheck demo --sample 6        # six configurations drawn (seed 0)
    python -m benchmarks.table_recheck sst2 --configs 3 17     # these configurations
    python -m benchmarks.table_recheck demo --smoke            # a tiny table's pipeline

Per configuration: the largest difference of the validation loss over its evaluations, the step
of its best validation loss in the table and now, and the test loss at that step in the table
and now. A table whose figures moved by more than float noise (1e-4) no longer describes the
code: rebuild it (``python -m benchmarks.curve_tables TABLE``). The figures go to
``benchmarks/results/table_recheck_<table>.json``.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import Any

from benchmarks.common import DEFAULT_WORK_DIR, print_table, save_json
from benchmarks.curve_table import read_table, table_file
from benchmarks.curve_tables import sweep_of, train_configs

# Differences below this are float noise (another machine's kernels); above it, the code moved.
SAME = 1e-4


def _best(evaluations: list[dict]) -> dict:
    finite = [row for row in evaluations if row.get("val_loss") == row.get("val_loss")]
    return min(finite, key=lambda row: row["val_loss"]) if finite else {}


def compare(recorded: dict[str, Any], again: dict[str, Any]) -> dict[str, Any]:
    """How far the configuration trained again lands from the table's entry."""
    now = {row["step"]: row for row in again["evaluations"]}
    val = [abs(now[row["step"]]["val_loss"] - row["val_loss"])
           for row in recorded["evaluations"] if row["step"] in now]
    table_best, best_now = _best(recorded["evaluations"]), _best(again["evaluations"])
    at_table_best = now.get(table_best.get("step"), {})
    return {
        "config": recorded["config"], "params": recorded["params"],
        "outcome": [recorded["outcome"], again["outcome"]],
        "evaluations": [len(recorded["evaluations"]), len(again["evaluations"])],
        "max_val_difference": max(val) if val else None,
        "best_step": [table_best.get("step"), best_now.get("step")],
        "best_val_loss": [table_best.get("val_loss"), best_now.get("val_loss")],
        "test_loss_at_table_best": [table_best.get("test_loss"),
                                    at_table_best.get("test_loss")],
    }


def chosen_configs(table: dict[str, Any], sample: int, seed: int,
                   configs: list[int] | None) -> list[dict[str, Any]]:
    entries = {entry["config"]: entry for entry in table["configs"]}
    if configs:
        missing = [c for c in configs if c not in entries]
        if missing:
            raise SystemExit(f"--configs: the table has no configuration {missing[0]} "
                             f"(0 to {max(entries)})")
        return [entries[c] for c in configs]
    keys = sorted(entries)
    return [entries[c] for c in sorted(random.Random(seed).sample(keys, min(sample, len(keys))))]


def recheck(table_name: str, path: Path, sample: int, seed: int,
            configs: list[int] | None, workers: int, smoke: bool, work_dir: Path) -> dict:
    table = read_table(path)
    raw = sweep_of(table_name, work_dir, smoke)
    changed = sorted(key for key in set(raw) | set(table["meta"]["sweep"])
                     if key not in ("output_dir", "data")
                     and raw.get(key) != table["meta"]["sweep"].get(key))
    if changed:
        print(f"note: today's sweep differs from the table's in {changed}", flush=True)
    picked = chosen_configs(table, sample, seed, configs)
    print(f"{table_name}: re-training {len(picked)} of {len(table['configs'])} configurations "
          f"({[entry['config'] for entry in picked]}), {workers} at a time", flush=True)
    recorded = {entry["config"]: entry for entry in picked}
    rows = []
    for again in train_configs(raw, [(e["config"], e["params"]) for e in picked], workers):
        rows.append(compare(recorded[again["config"]], again))
        print(f"  config {again['config']}: max |val difference| "
              f"{rows[-1]['max_val_difference']:.2e}", flush=True)
    rows.sort(key=lambda row: row["config"])
    moved = [row for row in rows if (row["max_val_difference"] or 0) > SAME]
    return {"table": table_name, "table_file": str(path), "sweep_changes": changed,
            "configs": rows, "moved": len(moved), "checked": len(rows),
            "verdict": ("the table describes today's code" if not moved else
                        f"{len(moved)} of {len(rows)} configurations moved by more than {SAME:g}:"
                        " rebuild the table")}


def report(result: dict) -> None:
    def cell(value: Any) -> str:
        return "-" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)

    rows = [[row["config"], f"{row['max_val_difference']:.2e}",
             " -> ".join(cell(v) for v in row["best_step"]),
             " -> ".join(cell(v) for v in row["best_val_loss"]),
             " -> ".join(cell(v) for v in row["test_loss_at_table_best"])]
            for row in result["configs"]]
    print_table(f"{result['table']}: the table -> today's code",
                ["config", "max |val diff|", "best step", "best val_loss",
                 "test_loss at table's best step"], rows)
    print(result["verdict"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("table", choices=("demo", "sst2", "smollm2"))
    parser.add_argument("--sample", type=int, default=6, help="configurations drawn [6]")
    parser.add_argument("--seed", type=int, default=0, help="the draw's seed [0]")
    parser.add_argument("--configs", type=int, nargs="+", help="these configurations instead")
    parser.add_argument("--workers", type=int, default=2, help="trials at a time [2]")
    parser.add_argument("--smoke", action="store_true",
                        help="a tiny table of a tiny model (build it with curve_tables.py --smoke)")
    parser.add_argument("--table-file", type=Path, help="default: benchmarks/curves/TABLE.json.gz"
                        " (--smoke: the smoke build's)")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR / "tables")
    args = parser.parse_args(argv)
    path = table_file(args.table, args.smoke, args.work_dir, args.table_file)
    result = recheck(args.table, path, args.sample, args.seed, args.configs, args.workers,
                     args.smoke, args.work_dir)
    report(result)
    if not args.smoke:
        save_json(f"table_recheck_{args.table}", result)


if __name__ == "__main__":
    main()
