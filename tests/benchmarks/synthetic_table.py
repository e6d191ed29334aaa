"""Learning-curve tables made by hand, for tests of the replay benchmark: curves whose shape
the test chooses (a slow or fast start, an overfitting turn), with no training."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable

import yaml

from benchmarks.curve_table import write_table
from benchmarks.curve_tables import sobol_configurations

PROJECT = Path(__file__).resolve().parents[2]
BASELINE = 0.70


def default_curve(params: dict[str, Any], step: int, total: int) -> tuple[float, float]:
    """(val_loss, train_eval_loss) of a made-up fine-tuning run: the higher the learning rate,
    the faster it learns and the sooner it overfits; a small one barely moves at first."""
    speed = params["learning_rate"] / 1e-3
    progress = 1 - math.exp(-speed * step / total * 2.5)
    floor = 0.45 + 0.1 * abs(math.log(speed / 2.0))
    train = BASELINE - (BASELINE - floor + 0.15 * speed / 4) * progress
    overfit = max(0.0, speed - 3.0) * 0.03 * (step / total) ** 2
    return BASELINE - (BASELINE - floor) * progress + overfit, train


def synthetic_table(path: Path, count: int = 32, max_steps: int = 120, eval_every: int = 15,
                    curve: Callable[..., tuple[float, float]] = default_curve,
                    sweep: str = "minilm_lora.yaml", seed: int = 0,
                    overrides: dict[str, Any] | None = None) -> Path:
    """Write a table of ``count`` Sobol configurations of the shipped sweep's space, each with
    the curve ``curve`` gives (test loss: the validation loss plus a little)."""
    from benchmarks.common import merge
    from search.sampling.space import split_space
    from search.spec.model import validate_spec

    raw = yaml.safe_load((PROJECT / "sweeps" / sweep).read_text())
    raw = merge(raw, {"training": {"max_steps": max_steps, "eval_every": eval_every},
                      "tracking": {"wandb": {"mode": "disabled"}}, "output_dir": str(path.parent)})
    raw = merge(raw, overrides or {})
    raw.pop("check", None)
    spec = validate_spec(raw, "synthetic table")
    distributions, _ = split_space(spec.space)
    configs = []
    for index, params in enumerate(sobol_configurations(distributions, count, seed)):
        rows, best, best_step = [], math.inf, 0
        for step in range(eval_every, max_steps + 1, eval_every):
            val, train = curve(params, step, max_steps)
            if val < best:
                best, best_step = val, step
            rows.append({"step": step, "total_steps": max_steps, "train_loss": train,
                         "train_eval_loss": train, "val_loss": val, "val_loss_se": 0.01,
                         "val_accuracy": 1 - val / 1.4, "val_distinct_predictions": 2,
                         "baseline_loss": BASELINE, "gap": val - train,
                         "test_loss": val + 0.01, "test_accuracy": 1 - val / 1.4,
                         "best_objective": best, "best_step": best_step,
                         "seconds_per_step": 0.2 + 0.01 * (index % 5), "eval_seconds": 2.0,
                         "test_seconds": 1.0})
        configs.append({"config": index, "params": params, "outcome": "completed", "reason": "",
                        "seconds": 30.0, "startup_seconds": 3.0, "evaluations": rows})
    meta = {"table": path.stem, "sweep": raw, "design": {"kind": "sobol", "seed": seed,
                                                         "count": count}}
    write_table(path, meta, configs)
    return path


def replicated_table(plain: Path, out: Path, configs: list[int], seeds: tuple[int, ...] = (1, 2)
                     ) -> Path:
    """``plain``'s table with seed replicates of ``configs``: each the entry trained again, its
    losses moved by an amount of the seed's own (down for even configurations, up for odd)."""
    import copy

    from benchmarks.curve_table import read_table

    raw = read_table(plain)
    replicates = []
    for seed in seeds:
        for config in configs:
            again = copy.deepcopy(raw["configs"][config])
            for row in again["evaluations"]:
                for name in ("val_loss", "test_loss"):
                    row[name] += 0.004 * seed * (1 if config % 2 else -1)
            replicates.append({**again, "seed": seed})
    write_table(out, raw["meta"], raw["configs"], replicates)
    return out
