"""Learning-curve tables: every configuration of a seeded Sobol design trained to its full budget
with basin's own trial loop, every evaluation recorded, for the replay benchmark to replay
search methods over (``benchmarks/replay/``, run by ``benchmarks/search_replay.py``).

Each table is one task exactly as a benchmark or a shipped sweep trains it:

  demo     the default sweep's task (sweeps/minilm_lora.yaml): 256 noisy train / 256 validation
           / 256 clean test, 120 steps, an evaluation every 15            (128 configurations)
  sst2     RESULTS.md section 1's SST-2: 500 / 300 / 1,000 carved from ../shared/data/sst2,
           max length 32, LoRA on query/value, 120 steps, every 15        (128 configurations)
  smollm2  sweeps/smollm2_sft.yaml: SmolLM2-135M-Instruct on the instruction task, 48 steps,
           every 8; exact match of greedy answers on every test example  (64 configurations)

Every trial runs FIFO, with no stopping rule, the sweep's training seed, one CPU thread per
trial and two trials at a time (as the sweeps run on 2 cores). Each evaluation records the step,
the losses (train sample, validation with its standard error, test), the task's figures, and
the seconds its steps, its evaluation and its test pass took. The test figures are there for
scoring only: the replay never shows them to a method.

    python -m benchmarks.curve_tables demo                 # build (or finish) a table
    python -m benchmarks.curve_tables sst2 --resume        # go on where a stopped build ended
    python -m benchmarks.curve_tables demo --smoke         # a tiny table of a tiny model
"""

from __future__ import annotations

import argparse
import multiprocessing
import platform
import sys
import time
from pathlib import Path
from typing import Any, Iterator

from benchmarks.common import (
    DEFAULT_WORK_DIR,
    PROJECT_DIR,
    SMOKE_MODEL,
    SST2_TSV,
    carve_sst2,
    merge,
)
from benchmarks.curve_table import read_table, table_file, write_table

SST2_SIZES = {"train": 500, "validation": 300, "test": 1000}
# What a row keeps of a report: the curve and its costs, not the trial's bookkeeping.
DROPPED = {"train_loss_curve", "samples_per_second", "tokens_per_second", "epoch", "world_size",
           "warm_start", "worker_pid", "trial_started_at", "reported_at", "startup_seconds",
           "node_id", "train_truncated", "val_truncated", "is_final"}
def sweep_of(table: str, work_dir: Path, smoke: bool = False) -> dict[str, Any]:
    """The sweep file a table's trials are trained by (its data, model and budget) and whose
    search, scheduling, stopping and selection the replay's "basin as shipped" uses."""
    import yaml

    source = "smollm2_sft.yaml" if table == "smollm2" else "minilm_lora.yaml"
    raw = yaml.safe_load((PROJECT_DIR / "sweeps" / source).read_text())
    raw = merge(raw, {"name": f"table-{table}", "output_dir": str(work_dir / "runs"),
                      "tracking": {"wandb": {"mode": "disabled"}}})
    raw.pop("check", None)
    if table == "sst2":  # RESULTS.md section 1's SST-2, on the default sweep's model and budget
        files = carve_sst2(work_dir / "sst2", SST2_SIZES, seed=0, source=SST2_TSV)
        raw["data"] = {"source": "files", "train_file": files["train"],
                       "validation_file": files["validation"], "test_file": files["test"],
                       "text_column": "sentence", "label_column": "label", "max_length": 32,
                       "train_eval_samples": 128}
    if smoke:
        raw = merge(raw, {"model": SMOKE_MODEL, "training": {"max_steps": 8, "eval_every": 4},
                          "scheduler": {"grace_period": 4}, "stopping": {"gap": {"grace_steps": 4}},
                          "data": {"demo": {"train_size": 64, "validation_size": 64,
                                            "test_size": 64}}})
    return raw


def sobol_configurations(space: dict[str, Any], count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` configurations of a scrambled, seeded Sobol design over the sweep's space:
    each coordinate mapped through its distribution (log scale where the space says so; a
    choice takes the value whose share of [0, 1) the coordinate falls in)."""
    import math

    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
    from scipy.stats import qmc

    names = sorted(space)
    points = qmc.Sobol(d=len(names), scramble=True, seed=seed).random(count)
    configurations = []
    for point in points:
        config: dict[str, Any] = {}
        for name, u in zip(names, point):
            dist = space[name]
            if isinstance(dist, CategoricalDistribution):
                config[name] = dist.choices[min(int(u * len(dist.choices)),
                                                len(dist.choices) - 1)]
            elif isinstance(dist, (FloatDistribution, IntDistribution)):
                low, high = ((math.log(dist.low), math.log(dist.high)) if dist.log
                             else (dist.low, dist.high))
                value = low + u * (high - low)
                value = math.exp(value) if dist.log else value
                config[name] = (int(round(value)) if isinstance(dist, IntDistribution)
                                else float(f"{value:.6g}"))
            else:
                raise ValueError(f"{name}: no Sobol mapping for {dist!r}")
        configurations.append(config)
    return configurations


def _compact(value: Any) -> Any:
    return float(f"{value:.7g}") if isinstance(value, float) else value


# --- the worker side: one process per trial slot, reused from configuration to configuration
_WORKER: dict[str, Any] = {}


def _start_worker(raw: dict[str, Any]) -> None:
    from benchmarks.common import one_process_group
    from search.spec.model import trial_settings, validate_spec

    spec = validate_spec(raw, "curve table")
    _WORKER["settings"] = trial_settings(spec).model_copy(
        update={"evaluate_test": "every_evaluation"})
    one_process_group()


def _train_one(job: tuple[int, dict[str, Any]]) -> dict[str, Any]:
    """Train one configuration to its full budget; its evaluations as table rows."""
    import shutil

    from trainables.recipe.loop import Diverged, train
    from trainables.settings import Hyperparameters

    index, params = job
    settings = _WORKER["settings"]
    training = settings.training
    rows: list[dict[str, Any]] = []
    started = time.time()
    clock: dict[str, float] = {"last": time.perf_counter(), "step": 0}

    def report(metrics: dict, folder: str | None) -> None:
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
        now = time.perf_counter()
        steps = metrics["step"] - clock["step"]
        samples = steps * training.micro_batch_size * training.gradient_accumulation
        train_seconds = samples / metrics["samples_per_second"]
        test_seconds = metrics.get("test_seconds", 0.0)
        # The first interval also holds the trial's start-up (model, engine, baseline).
        startup = 0.0 if rows else metrics["startup_seconds"]
        clock.setdefault("startup", startup)
        row = {key: _compact(value) for key, value in metrics.items() if key not in DROPPED}
        row.update(seconds_per_step=_compact(train_seconds / steps),
                   eval_seconds=_compact(max(0.0, now - clock["last"] - train_seconds
                                             - test_seconds - startup)))
        rows.append(row)
        clock.update(last=time.perf_counter(), step=metrics["step"])

    outcome, reason = "completed", ""
    try:
        train(Hyperparameters(**params), settings, report, started_at=started)
    except Diverged as error:
        outcome, reason = "diverged", str(error)
    return {"config": index, "params": params, "outcome": outcome, "reason": reason,
            "seconds": round(time.time() - started, 2),
            "startup_seconds": round(clock.get("startup", 0.0), 2), "evaluations": rows}


def build(table: str, count: int, seed: int, workers: int, resume: bool, smoke: bool,
          work_dir: Path, out: Path, command: str = "") -> Path:
    """Train every configuration of the table that is not in ``out`` yet, two at a time,
    writing the table after each one (a stopped build loses at most the trials in flight)."""
    from search.sampling.space import split_space
    from search.spec.model import validate_spec

    raw = sweep_of(table, work_dir, smoke)
    spec = validate_spec(raw, f"table {table}")
    distributions, _ = split_space(spec.space)
    configurations = sobol_configurations(distributions, count, seed)
    existing = read_table(out) if resume and out.is_file() else None
    done = {entry["config"]: entry for entry in (existing or {}).get("configs", [])}
    replicates = (existing or {}).get("replicates")  # kept as they are (curve_replicates.py)
    meta = (existing or {}).get("meta") or {
        "table": table,
        "command": command,
        "sweep": raw, "design": {"kind": "sobol", "scrambled": True, "seed": seed, "count": count},
        "trials_at_a_time": workers, "threads_per_trial": 1, "machine": _machine(),
        "pieces": []}
    if meta["design"]["count"] != count or meta["design"]["seed"] != seed:
        raise SystemExit(f"{out}: built with {meta['design']}; pass the same --configs/--seed")
    todo = [(i, c) for i, c in enumerate(configurations) if i not in done]
    piece = {"started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
             "configs": len(todo)}
    meta["pieces"].append(piece)
    print(f"{table}: {len(done)} of {count} configurations in {out}; training {len(todo)}, "
          f"{workers} at a time", flush=True)
    if spec.model.name.startswith("builtin:"):
        from trainables.models.builtin_llm import prepare_model

        prepare_model(spec.model.name)  # once, before the workers race for it
    started = time.perf_counter()
    for finished, entry in enumerate(train_configs(raw, todo, workers), start=1):
        done[entry["config"]] = entry
        piece["seconds"] = round(time.perf_counter() - started, 1)
        meta["build_seconds"] = round(sum(p.get("seconds", 0) for p in meta["pieces"]), 1)
        write_table(out, meta, [done[i] for i in sorted(done)], replicates)
        last = entry["evaluations"][-1] if entry["evaluations"] else {}
        print(f"  [{len(done)}/{count}] config {entry['config']} {entry['outcome']} in "
              f"{entry['seconds']:.0f} s: val_loss {last.get('val_loss', float('nan')):.4f} "
              f"test_loss {last.get('test_loss', float('nan')):.4f} "
              f"({finished}/{len(todo)} of this piece, {piece['seconds']:.0f} s)", flush=True)
    piece["finished"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    write_table(out, meta, [done[i] for i in sorted(done)], replicates)
    return out


def train_configs(raw: dict, todo: list[tuple[int, dict]], workers: int) -> Iterator[dict]:
    """Train each (index, params) of ``todo`` under the sweep ``raw``, ``workers`` at a time
    in fresh processes; their table entries as they finish (the build, the replicates and the
    re-check train through this)."""
    if not todo:
        return iter(())
    context = multiprocessing.get_context("spawn")
    pool = context.Pool(workers, initializer=_start_worker, initargs=(raw,))
    return _drain(pool, todo)


def _drain(pool: Any, todo: list[tuple[int, dict]]) -> Iterator[dict]:
    with pool:
        yield from pool.imap_unordered(_train_one, todo, chunksize=1)


def _machine() -> dict[str, Any]:
    from importlib.metadata import version

    import psutil

    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    return {"cpu": cpu, "cpus": psutil.cpu_count(),
            "memory_gib": round(psutil.virtual_memory().total / 2**30),
            "python": platform.python_version(),
            **{name: version(name) for name in ("torch", "transformers", "peft", "deepspeed",
                                                 "ray", "optuna")}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("table", choices=("demo", "sst2", "smollm2"))
    parser.add_argument("--configs", type=int, help="configurations in the design (default: "
                        "128; smollm2 64; --smoke 4)")
    parser.add_argument("--seed", type=int, default=0, help="the Sobol design's seed")
    parser.add_argument("--workers", type=int, default=2, help="trials at a time (2 cores)")
    parser.add_argument("--resume", action="store_true",
                        help="keep the configurations the table holds; train the rest")
    parser.add_argument("--smoke", action="store_true", help="a tiny random model, 8 steps")
    parser.add_argument("--out", type=Path, help="the table file (default: "
                        "benchmarks/curves/<table>.json.gz; --smoke: in --work-dir)")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR / "tables")
    args = parser.parse_args(argv)
    count = args.configs or (4 if args.smoke else 64 if args.table == "smollm2" else 128)
    out = table_file(args.table, args.smoke, args.work_dir, args.out)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    command = " ".join(["python", "-m", "benchmarks.curve_tables",
                        *(sys.argv[1:] if argv is None else argv)])
    build(args.table, count, args.seed, args.workers, args.resume, args.smoke, args.work_dir,
          out, command)


if __name__ == "__main__":
    main()
