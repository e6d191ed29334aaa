"""The replay benchmark: search methods compared over learning-curve tables, hundreds of paired
seeds in minutes, through basin's own decision code (``benchmarks/replay/``).

Each (table, method, trials, trials at a time, seed) is one replayed sweep: the method proposes
configurations, the table answers each with the curve of its nearest tabulated configuration,
and the method's searcher, scheduler, stopping rules and selection decide as they would in a
real sweep. What the method hands on is scored on the table's test figures, which it never saw.

    python -m benchmarks.search_replay                       # every table in benchmarks/curves
    python -m benchmarks.search_replay --resume              # finish an interrupted replay
    python -m benchmarks.search_replay --report              # tables and plot from the results
    python -m benchmarks.search_replay --bar                 # issue 30's bar, clause by clause
    python -m benchmarks.search_replay --verdicts            # equivalence verdicts (noise floor)
    python -m benchmarks.search_replay --holdout             # the nearest-neighbour lookup's error
    python -m benchmarks.search_replay --fidelity 3          # replay vs a real run, 2 at a time
    python -m benchmarks.search_replay --smoke               # a tiny table, 2 seeds (a test)
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import DEFAULT_WORK_DIR, RESULTS_DIR
from benchmarks.curve_table import TABLES_DIR, CurveTable

DEFAULT_TRIALS = (10, 20, 40)
DEFAULT_CONCURRENCY = (2, 8)
_TABLES: dict[str, CurveTable] = {}


def _table(path: str) -> CurveTable:
    if path not in _TABLES:
        _TABLES[path] = CurveTable.load(Path(path))
    return _TABLES[path]


def replay_cell(job: tuple[str, str, int, int, list[int]]) -> list[dict[str, Any]]:
    """Every seed of one (table, method, trials, trials at a time): rows of the results."""
    import logging

    import optuna

    from benchmarks.replay.methods import METHODS, VARIANTS
    from benchmarks.replay.replayed import Setting
    from benchmarks.replay.scoring import ANYTIME_SHARES, row_of

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("ray").setLevel(logging.ERROR)
    path, method, trials, concurrency, seeds = job
    table = _table(path)
    run = {**METHODS, **VARIANTS}[method]
    full = trials * table.spec.training.max_steps
    rows = []
    for seed in seeds:
        setting = Setting(trials, concurrency, seed)
        started = time.perf_counter()
        replayed = run(table, setting, [share * full for share in ANYTIME_SHARES], method)
        rows.append({**row_of(table, setting, replayed),
                     "cpu_seconds": round(time.perf_counter() - started, 3)})
    return rows


def run_all(paths: list[str], methods: list[str], trials: list[int], concurrency: list[int],
            seeds: list[int], workers: int, out: Path, resume: bool) -> list[dict[str, Any]]:
    """Replay every cell not in ``out`` yet, ``workers`` processes at a time, saving after each
    cell; returns every row."""
    rows = _load(out)["rows"] if resume and out.is_file() else []
    done = {(r["table"], r["method"], r["trials"], r["concurrency"], r["seed"]) for r in rows}
    jobs = []
    for path in paths:
        name = _table(path).name
        for method in methods:
            for n in trials:
                for c in concurrency:
                    todo = [s for s in seeds if (name, method, n, c, s) not in done]
                    if todo:
                        jobs.append((path, method, n, c, todo))
    # Long cells first, so that the two workers end together.
    jobs.sort(key=lambda job: -job[2] * len(job[4]))
    started = time.perf_counter()
    print(f"replaying {sum(len(j[4]) for j in jobs)} sweeps in {len(jobs)} cells, "
          f"{workers} at a time", flush=True)
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers) as pool:
        for index, cell in enumerate(pool.imap_unordered(replay_cell, jobs), start=1):
            rows += cell
            first = cell[0]
            print(f"  [{index}/{len(jobs)}] {first['table']} {first['method']} "
                  f"{first['trials']} trials x{first['concurrency']}: {len(cell)} seeds, "
                  f"{time.perf_counter() - started:.0f} s", flush=True)
            _save(out, rows, paths, time.perf_counter() - started)
    return rows


def _save(out: Path, rows: list[dict[str, Any]], paths: list[str], seconds: float) -> None:
    from benchmarks.common import machine_facts

    out.parent.mkdir(parents=True, exist_ok=True)
    previous = _load(out) if out.is_file() else {}
    meta = {"machine": machine_facts(), "tables": paths, "command": " ".join(sys.argv),
            "pieces": previous.get("meta", {}).get("pieces", [])}
    meta["last_piece_seconds"] = round(seconds, 1)
    lines = ",\n".join(json.dumps(row, separators=(",", ":")) for row in rows)
    text = f'{{"meta": {json.dumps(meta)},\n"rows": [\n{lines}\n]}}\n'
    partial = out.with_name(out.name + ".partial")  # a kill mid-write leaves the last file whole
    with (gzip.open(partial, "wt") if out.suffix == ".gz" else open(partial, "w")) as handle:
        handle.write(text)
    partial.replace(out)


def _load(path: Path) -> dict[str, Any]:
    """The results file (gzipped when its name ends in .gz)."""
    with (gzip.open(path, "rt") if path.suffix == ".gz" else open(path)) as handle:
        return json.load(handle)


def _parser() -> argparse.ArgumentParser:
    from benchmarks.replay.methods import METHODS, VARIANTS

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", nargs="+", type=Path,
                        help="table files (default: every table in benchmarks/curves)")
    parser.add_argument("--methods", nargs="+", choices=[*METHODS, *VARIANTS],
                        default=list(METHODS), help="methods (and diagnostic variants)")
    parser.add_argument("--trials", nargs="+", type=int, default=list(DEFAULT_TRIALS))
    parser.add_argument("--concurrency", nargs="+", type=int, default=list(DEFAULT_CONCURRENCY))
    parser.add_argument("--seeds", type=int, default=50, help="seeds 0..N-1 (default: 50)")
    parser.add_argument("--workers", type=int, default=2, help="processes (2 cores)")
    parser.add_argument("--out", type=Path, help="results file (default: benchmarks/results/"
                        "search_replay.json.gz; --smoke: search_replay.json in --work-dir)")
    parser.add_argument("--resume", action="store_true", help="keep the rows the file holds")
    parser.add_argument("--report", action="store_true",
                        help="only print the tables and draw the plot from the results file")
    parser.add_argument("--bar", action="store_true",
                        help="only check issue 30's bar (every freeze variant and basin against "
                        "random, ray and basin) and print the default it chooses")
    parser.add_argument("--verdicts", action="store_true",
                        help="only print the equivalence verdicts against random search and "
                        "basin, with each table's noise floor as the margin (benchmarks/results/"
                        "noise_floor_TABLE.json, from python -m benchmarks.noise_floor)")
    parser.add_argument("--holdout", action="store_true",
                        help="only measure the nearest-neighbour lookup on held-out configurations")
    parser.add_argument("--fidelity", type=int, metavar="SEEDS",
                        help="only run the first table's sweep (20 trials, 2 at a time) for "
                        "SEEDS seeds both under real Ray Tune (time scaled by 0.02) and as a "
                        "replay, and say how many trials' outcomes agree")
    parser.add_argument("--smoke", action="store_true",
                        help="build a tiny table (tiny random model) and replay it, 2 seeds")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR / "replay")
    return parser


def _smoke_table(work_dir: Path) -> Path:
    """A tiny table (tiny random model, 4 configurations), built once in ``work_dir``."""
    from benchmarks.curve_tables import main as build_table

    table = work_dir / "smoke-table.json"
    if not table.is_file():
        build_table(["demo", "--smoke", "--configs", "4", "--out", str(table),
                     "--work-dir", str(work_dir)])
    return table


def _fidelity(path: str, seeds: int, out_dir: Path) -> None:
    """The replay against real Ray Tune on the table at ``path``: printed and saved."""
    from benchmarks.common import save_json
    from benchmarks.replay.fidelity import agreement

    found = agreement(_table(path), list(range(seeds)))
    for row in found["seeds"]:
        print(f"seed {row['seed']}: {row['agree']}/{row['trials']} trials agree "
              f"(first difference at trial {row['first_difference']})")
    save_json("search_replay_fidelity", found, out_dir)


def main(argv: list[str] | None = None) -> None:
    from benchmarks.replay.methods import VARIANTS

    args = _parser().parse_args(argv)

    out = args.out or (args.work_dir / "search_replay.json" if args.smoke
                       else RESULTS_DIR / "search_replay.json.gz")
    if args.smoke:
        args.tables, args.trials, args.concurrency, args.seeds = \
            [_smoke_table(args.work_dir)], [4], [2], 2
    paths = [str(p) for p in (args.tables or sorted(TABLES_DIR.glob("*.json.gz")))]
    if not paths:
        raise SystemExit(f"no tables in {TABLES_DIR}: build them with "
                         "python -m benchmarks.curve_tables")
    from benchmarks.replay.report import holdout_report, report

    if args.holdout:
        print(holdout_report([_table(p) for p in paths]))
        return
    if args.bar:
        from benchmarks.replay.bar import bar_report

        print(bar_report(_load(out)["rows"], ["basin", *VARIANTS],
                         candidates=[v for v in VARIANTS if v.startswith("freeze")]))
        return
    if args.verdicts:
        from benchmarks.replay.verdicts import margins, verdict_report

        rows = _load(out)["rows"]
        folder = args.work_dir if args.smoke else RESULTS_DIR
        print(verdict_report(rows, margins(sorted({r["table"] for r in rows}), folder)))
        return
    if args.fidelity:
        _fidelity(paths[0], args.fidelity, args.work_dir if args.smoke else RESULTS_DIR)
        return
    if not args.report:
        run_all(paths, args.methods, args.trials, args.concurrency, list(range(args.seeds)),
                args.workers, out, args.resume)
    print(report(_load(out), [_table(p) for p in paths],
                 plot=out.with_name(out.name.split(".")[0] + ".png")))


if __name__ == "__main__":
    main()
