"""Seed replicates of a learning-curve table: the same configurations trained again with other
training seeds, so that the replay knows how far one seed's figures are from another's.

For a finished table (``benchmarks/curve_tables.py``), the configurations replicated are its
best ``top`` by best validation loss and ``drawn`` more drawn at random (seeded) from the rest;
each is trained with every seed of ``seeds`` (the table's own entries are the sweep's training
seed, 0), exactly as the table's build trains (its sweep, FIFO, no stopping rule, the test split
at every evaluation, two at a time). Only the training seed changes: the data, its split and the
design stay. The replicates go into the table file beside its configurations, one line each,
written after each one (a stopped run loses at most the trials in flight).

    python -m benchmarks.curve_replicates demo --resume     # top 20 + 10 drawn, seeds 1 and 2
    python -m benchmarks.curve_replicates demo --smoke      # a smoke table's replicates
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path
from typing import Any

from benchmarks.common import DEFAULT_WORK_DIR
from benchmarks.curve_table import best_evaluation, read_table, table_file, write_table
from benchmarks.curve_tables import sweep_of, train_configs

TOP, DRAWN, SEEDS = 20, 10, (1, 2)


def best_val(entry: dict[str, Any]) -> float:
    """An entry's best validation loss (inf where none is finite)."""
    best = best_evaluation(entry)
    return float("inf") if best is None else best["val_loss"]


def replicated_configs(configs: list[dict[str, Any]], top: int, drawn: int,
                       seed: int = 0) -> list[int]:
    """The configurations to replicate: the ``top`` best by best validation loss, then
    ``drawn`` of the others drawn with ``seed``."""
    ranked = sorted(configs, key=lambda entry: (best_val(entry), entry["config"]))
    best = [entry["config"] for entry in ranked[:top]]
    rest = sorted(entry["config"] for entry in ranked[top:])
    return best + sorted(random.Random(seed).sample(rest, min(drawn, len(rest))))


def replicate(table_name: str, out: Path, top: int, drawn: int, seeds: tuple[int, ...],
              workers: int, smoke: bool, work_dir: Path) -> Path:
    """Train every (configuration, seed) replicate the table does not hold yet."""
    table = read_table(out)
    meta, configs = table["meta"], table["configs"]
    if len(configs) < meta["design"]["count"]:
        raise SystemExit(f"{out}: {len(configs)} of {meta['design']['count']} configurations "
                         f"built; finish the table first (curve_tables.py {table_name} --resume)")
    chosen = replicated_configs(configs, top, drawn)
    by_config = {entry["config"]: entry for entry in configs}
    done = {(entry["config"], entry["seed"]): entry for entry in table.get("replicates", [])}
    todo = [(config, {**by_config[config]["params"], "seed": seed})
            for seed in seeds for config in chosen if (config, seed) not in done]
    meta["replicates"] = {"top": top, "drawn": drawn, "seeds": list(seeds), "configs": chosen}
    piece = {"started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
             "replicates": len(todo)}
    meta.setdefault("replicate_pieces", []).append(piece)
    print(f"{table_name}: {len(done)} replicates in {out}; training {len(todo)} "
          f"({len(chosen)} configurations x seeds {list(seeds)}), {workers} at a time",
          flush=True)
    started = time.perf_counter()
    raw = sweep_of(table_name, work_dir, smoke)
    for finished, entry in enumerate(train_configs(raw, todo, workers), start=1):
        entry["seed"] = entry["params"].pop("seed")
        done[(entry["config"], entry["seed"])] = entry
        piece["seconds"] = round(time.perf_counter() - started, 1)
        write_table(out, meta, configs, [done[key] for key in sorted(done)])
        print(f"  [{len(done)}] config {entry['config']} seed {entry['seed']} {entry['outcome']}"
              f" in {entry['seconds']:.0f} s: best val_loss {best_val(entry):.4f} (table's "
              f"seed: {best_val(by_config[entry['config']]):.4f}; {finished}/{len(todo)})",
              flush=True)
    piece["finished"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    write_table(out, meta, configs, [done[key] for key in sorted(done)])
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("table", choices=("demo", "sst2", "smollm2"))
    parser.add_argument("--top", type=int, default=TOP, help=f"best configurations [{TOP}]")
    parser.add_argument("--drawn", type=int, default=DRAWN, help=f"drawn at random [{DRAWN}]")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS),
                        help="training seeds beside the table's 0 [1 2]")
    parser.add_argument("--workers", type=int, default=2, help="trials at a time [2]")
    parser.add_argument("--resume", action="store_true",
                        help="(always on: replicates the table holds are kept)")
    parser.add_argument("--smoke", action="store_true", help="a smoke table (curve_tables.py "
                        "--smoke), 1 best and 1 drawn")
    parser.add_argument("--out", type=Path, help="the table file (default: "
                        "benchmarks/curves/<table>.json.gz; --smoke: in --work-dir)")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR / "tables")
    args = parser.parse_args(argv)
    out = table_file(args.table, args.smoke, args.work_dir, args.out)
    top, drawn = (1, 1) if args.smoke else (args.top, args.drawn)
    replicate(args.table, out, top, drawn, tuple(args.seeds), args.workers, args.smoke,
              args.work_dir)


if __name__ == "__main__":
    main()
