"""A learning-curve table's seed noise, from its replicates (``benchmarks/curve_replicates.py``):
how far one training seed's figures lie from another's for the same configuration. It is the
replay's margin (RESULTS.md, "How sure is the hand-over?"): a difference between two methods
smaller than one seed's noise is no difference a user could rely on.

For each replicated configuration, every seed (the table's own entry is seed 0) is scored at its
own best validation step: its best validation loss, and the test loss at that step. The spread
of a configuration is the standard deviation of those figures over its seeds; the table's floor
``sigma`` is the median of the configurations' spreads of the test loss, shown with their
range, beside the same for the best validation loss. The test split is read for scoring only.

    python -m benchmarks.noise_floor sst2 --table-file benchmarks/curves/sst2.json.gz
    python -m benchmarks.noise_floor demo --smoke      # a smoke table's replicates

The figures go to ``benchmarks/results/noise_floor_<table>.json``.
"""

from __future__ import annotations

import argparse
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks.common import DEFAULT_WORK_DIR, RESULTS_DIR, print_table, save_json
from benchmarks.curve_table import best_evaluation, read_table, table_file

TABLE_SEED = 0  # the seed of a table's own entries: the sweep's training seed


def seeds_of(table: dict[str, Any]) -> dict[int, dict[int, dict[str, Any]]]:
    """Every replicated configuration's entries by seed, the table's own as seed 0."""
    by_config: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
    for entry in table.get("replicates", []):
        by_config[entry["config"]][entry["seed"]] = entry
    own = {entry["config"]: entry for entry in table["configs"]}
    for config in by_config:
        by_config[config][TABLE_SEED] = own[config]
    return dict(by_config)


def spread(values: list[float]) -> float | None:
    """The standard deviation over seeds; None for fewer than two (one seed has no spread)."""
    return statistics.stdev(values) if len(values) > 1 else None


def configuration_noise(config: int, entries: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """One configuration's figures per seed, each at its own best validation step, and their
    spreads."""
    seeds = sorted(entries)
    best = {seed: best_evaluation(entries[seed]) for seed in seeds}
    scored = [seed for seed in seeds if best[seed] is not None]
    val = [best[seed]["val_loss"] for seed in scored]
    test = [best[seed]["test_loss"] for seed in scored]
    return {"config": config, "params": entries[TABLE_SEED]["params"], "seeds": seeds,
            "scored_seeds": scored, "best_step": [best[seed]["step"] for seed in scored],
            "best_val_loss": val, "test_loss": test,
            "sd_val_loss": spread(val), "sd_test_loss": spread(test)}


def summary(spreads: list[float]) -> dict[str, float] | None:
    """The median of the configurations' spreads, with their range."""
    if not spreads:
        return None
    return {"median": statistics.median(spreads), "min": min(spreads), "max": max(spreads),
            "configurations": len(spreads)}


def noise_floor(table: dict[str, Any]) -> dict[str, Any]:
    """The table's seed noise: each replicated configuration's spreads, and the floor."""
    rows = [configuration_noise(config, entries)
            for config, entries in sorted(seeds_of(table).items())]
    if not rows:
        raise SystemExit(f"table {table['meta'].get('table')}: no seed replicates; make them "
                         f"first (python -m benchmarks.curve_replicates TABLE)")
    test = summary([row["sd_test_loss"] for row in rows if row["sd_test_loss"] is not None])
    val = summary([row["sd_val_loss"] for row in rows if row["sd_val_loss"] is not None])
    return {"table": table["meta"].get("table"), "replicates": table["meta"].get("replicates"),
            "configs": rows, "sd_test_loss": test, "sd_val_loss": val,
            "sigma": test["median"] if test else None}


def report(result: dict[str, Any]) -> str:
    """Print the per-configuration spreads and the floor; return the table as Markdown."""
    def figures(values: list[float]) -> str:
        return " ".join(f"{value:.4f}" for value in values)

    def sd(value: float | None) -> str:
        return "needs 2 seeds" if value is None else f"{value:.4f}"

    rows = [[row["config"], " ".join(map(str, row["best_step"])), figures(row["best_val_loss"]),
             sd(row["sd_val_loss"]), figures(row["test_loss"]), sd(row["sd_test_loss"])]
            for row in result["configs"]]
    markdown = print_table(
        f"{result['table']}: each seed at its own best validation step (seeds "
        f"{result['configs'][0]['seeds']})",
        ["config", "best step", "best val_loss", "sd", "test_loss there", "sd"], rows)
    for name in ("sd_val_loss", "sd_test_loss"):
        floor = result[name]
        if floor:
            print(f"{name}: median {floor['median']:.4f} over {floor['configurations']} "
                  f"configurations (range {floor['min']:.4f} to {floor['max']:.4f})")
    if result["sigma"] is not None:
        print(f"noise floor sigma (median sd of the test loss) = {result['sigma']:.4f}")
    return markdown


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("table", choices=("demo", "sst2", "smollm2"))
    parser.add_argument("--smoke", action="store_true", help="a smoke table (curve_tables.py "
                        "--smoke, then curve_replicates.py --smoke)")
    parser.add_argument("--table-file", type=Path, help="default: benchmarks/curves/TABLE.json.gz"
                        " (--smoke: the smoke build's)")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR / "tables")
    args = parser.parse_args(argv)
    path = table_file(args.table, args.smoke, args.work_dir, args.table_file)
    result = {**noise_floor(read_table(path)), "table_file": str(path)}
    report(result)
    save_json(f"noise_floor_{args.table}", result, args.work_dir if args.smoke else RESULTS_DIR)


if __name__ == "__main__":
    main()
