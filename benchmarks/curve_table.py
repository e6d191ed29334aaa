"""A learning-curve table (``benchmarks/curve_tables.py`` builds them): reading, writing, and
answering a configuration with the tabulated curve of its nearest configuration.

A table file is JSON: ``meta`` (the sweep its trials were trained by, the design, the machine,
the command and how long each piece of the build took) and ``configs``, one line each: the
configuration, how it ended and its evaluations (step, losses, task figures, seconds).
"""

from __future__ import annotations

import gzip
import json
import math
import os
from pathlib import Path
from typing import Any

from benchmarks.common import merge

TABLES_DIR = Path(__file__).resolve().parent / "curves"


def table_file(table: str, smoke: bool, work_dir: Path, given: Path | None = None) -> Path:
    """Where a table is: ``given``, else the repository's ``curves/<table>.json.gz``, else
    (a smoke build) ``<work_dir>/<table>.json``."""
    if given is not None:
        return given
    return work_dir / f"{table}.json" if smoke else TABLES_DIR / f"{table}.json.gz"


def read_table(path: Path) -> dict[str, Any]:
    """A table file (``.json``, or gzipped ``.json.gz``) as ``{"meta": ..., "configs": [...]}``."""
    path = Path(path)
    if path.suffix == ".gz":
        with gzip.open(path, "rt") as handle:
            return json.load(handle)
    return json.loads(path.read_text())


def write_table(path: Path, meta: dict[str, Any], configs: list[dict[str, Any]],
                replicates: list[dict[str, Any]] | None = None) -> None:
    """Write a table atomically (a build stopped mid-write keeps the previous file), one
    configuration per line, then its seed replicates (``benchmarks/curve_replicates.py``), if
    any; gzipped when the name ends in ``.gz`` (the tables in the repo)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)

    def lines(entries: list[dict[str, Any]]) -> str:
        return ",\n".join(json.dumps(entry, separators=(",", ":")) for entry in entries)

    text = f'{{"meta": {json.dumps(meta)},\n"configs": [\n{lines(configs)}\n]'
    if replicates:
        text += f',\n"replicates": [\n{lines(replicates)}\n]'
    text += "}\n"
    temporary = path.with_name(path.name + ".tmp")
    if path.suffix == ".gz":
        # mtime 0: the same table gives the same bytes, so git sees no change.
        with open(temporary, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
            out.write(text.encode())
    else:
        temporary.write_text(text)
    os.replace(temporary, path)


def best_evaluation(entry: dict[str, Any]) -> dict[str, Any] | None:
    """The evaluation of a table entry's best validation loss (the earliest of equal ones);
    None when no validation loss is finite (a curve that diverged at once)."""
    finite = [row for row in entry["evaluations"]
              if isinstance(row.get("val_loss"), (int, float)) and math.isfinite(row["val_loss"])]
    return min(finite, key=lambda row: (row["val_loss"], row["step"])) if finite else None


# The weights a hyperparameter's distance may take in the lookup (fit_weights).
WEIGHT_GRID = (1.0, 0.3, 0.1, 0.03, 0.0)


def nearest_errors(coords: Any, targets: Any, weights: Any, exclude: int | None = None) -> Any:
    """Leave-one-out: how far each configuration's target is from its nearest other's under
    ``weights`` (``exclude``: a configuration that is neither predicted nor predicts)."""
    import numpy as np

    scaled = coords * weights
    distances = ((scaled[:, None, :] - scaled[None, :, :]) ** 2).sum(axis=2)
    np.fill_diagonal(distances, np.inf)
    keep = np.ones(len(coords), dtype=bool)
    if exclude is not None:
        distances[:, exclude] = np.inf
        keep[exclude] = False
    return np.abs(targets[distances.argmin(axis=1)] - targets)[keep]


def fit_weights(coords: Any, targets: Any, exclude: int | None = None, passes: int = 2) -> Any:
    """Per-hyperparameter weights of the lookup's distance, each chosen from ``WEIGHT_GRID``
    in turn so that every configuration's nearest other predicts its best validation loss best
    (leave-one-out; ties to the larger weight). The test split plays no part."""
    import numpy as np

    weights = np.ones(coords.shape[1])
    for _ in range(passes):
        for k in range(len(weights)):
            def error(weight: float) -> float:
                trial = weights.copy()
                trial[k] = weight
                return float(nearest_errors(coords, targets, trial, exclude).mean())
            weights[k] = min(WEIGHT_GRID, key=lambda weight: (error(weight), -weight))
    return weights


def normalised(value: Any, distribution: Any) -> float:
    """A hyperparameter's position in [0, 1] along its distribution (log scale where the
    space says so; a choice of numbers by its value, log-scaled when all are positive)."""
    from optuna.distributions import CategoricalDistribution

    if isinstance(distribution, CategoricalDistribution):
        choices = list(distribution.choices)
        if all(isinstance(c, (int, float)) for c in choices):
            numbers = [math.log(c) if min(choices) > 0 else c for c in choices]
            low, high = min(numbers), max(numbers)
            x = math.log(value) if min(choices) > 0 else value
            return (x - low) / (high - low) if high > low else 0.0
        return choices.index(value) / max(1, len(choices) - 1)
    low, high = distribution.low, distribution.high
    if distribution.log:
        low, high, value = math.log(low), math.log(high), math.log(value)
    return (value - low) / (high - low) if high > low else 0.0


# What a tabulated trial reported that a replayed search may not read: the test split's figures
# and the seconds they took.
HIDDEN_PREFIX = "test_"


class CurveTable:
    """One table in memory: its sweep, its configurations and their curves, and the lookup of
    the tabulated configuration nearest to any configuration of the sweep's space.

    A *curve* is one training of a configuration with one seed. Curves ``0 .. N-1`` are the N
    configurations with the table's own seed (0), in the configurations' order, so a curve index
    below N is also the configuration's; the seed replicates (``curve_replicates.py``) follow.
    What reads a curve (its reports, rows, best step) takes a curve index; what ranks the
    configurations (the lookup, the oracle, the top share) reads seed 0 only."""

    def __init__(self, table: dict[str, Any], path: Path | None = None):
        import numpy as np

        from search.sampling.space import split_space

        self.path = path
        self.meta = table["meta"]
        self.configs: list[dict[str, Any]] = table["configs"]
        self.curves = self.configs + list(table.get("replicates", []))
        self.config_of = list(range(len(self.configs))) + [
            entry["config"] for entry in self.curves[len(self.configs):]]
        self.seed_of = [0] * len(self.configs) + [
            entry["seed"] for entry in self.curves[len(self.configs):]]
        self._seeds: dict[int, dict[int, int]] = {}
        for curve, config in enumerate(self.config_of):
            self._seeds.setdefault(config, {})[self.seed_of[curve]] = curve
        self.spec = self.sweep_spec()
        self.distributions, _ = split_space(self.spec.space)
        self.names = sorted(self.distributions)
        self.coords = np.array([self.position(entry["params"]) for entry in self.configs])
        self.weights = fit_weights(self.coords, self.best_val_losses())

    @classmethod
    def load(cls, path: Path) -> CurveTable:
        return cls(read_table(path), Path(path))

    @property
    def name(self) -> str:
        return self.meta["table"]

    def sweep_spec(self, overrides: dict[str, Any] | None = None) -> Any:
        """The table's sweep (its decision blocks are what "basin as shipped" replays), with
        ``overrides`` laid over it."""
        from search.spec.model import validate_spec

        raw = merge(json.loads(json.dumps(self.meta["sweep"])), overrides or {})
        return validate_spec(raw, f"table {self.meta['table']}")

    def position(self, params: dict[str, Any]) -> list[float]:
        """A configuration's coordinates in the normalised space (each in [0, 1])."""
        return [normalised(params[name], self.distributions[name]) for name in self.names]

    def nearest(self, params: dict[str, Any], weights: Any = None,
                exclude: int | None = None) -> int:
        """The index of the tabulated configuration nearest to ``params``: Euclidean distance
        in the normalised space, each hyperparameter weighted (default: the table's fitted
        ``weights``; ``exclude``: an index left out, for held-out errors)."""
        import numpy as np

        weights = self.weights if weights is None else weights
        offsets = (self.coords - np.array(self.position(params))) * weights
        distances = (offsets ** 2).sum(axis=1)
        if exclude is not None:
            distances[exclude] = np.inf
        return int(distances.argmin())

    def best_val_losses(self) -> Any:
        """Every configuration's best validation loss over its curve (inf: none finite)."""
        import numpy as np

        return np.array([self.best_val_loss(i) for i in range(len(self.configs))])

    def seeds(self, config: int) -> dict[int, int]:
        """A configuration's curves by training seed (seed 0: the configuration's own index)."""
        return dict(self._seeds[config])

    def reports(self, index: int) -> list[dict[str, Any]]:
        """What the tabulated curve reported at each evaluation, as a search may see it: the
        test split's figures removed, ``is_final`` restored."""
        entry = self.curves[index]
        return [{**{k: v for k, v in row.items() if not k.startswith(HIDDEN_PREFIX)},
                 "is_final": row["step"] == row["total_steps"]}
                for row in entry["evaluations"]]

    def diverged_at(self, index: int) -> int | None:
        """The step at which the tabulated curve's loss became non-finite, or None."""
        entry = self.curves[index]
        if entry["outcome"] != "diverged":
            return None
        words = entry["reason"].split()
        return int(words[-1]) if words and words[-1].isdigit() else None

    def row_at(self, index: int, step: int) -> dict[str, Any]:
        return next(row for row in self.curves[index]["evaluations"] if row["step"] == step)

    def best_val_step(self, index: int) -> int | None:
        """The step of the curve's best validation loss over its whole length."""
        best = best_evaluation(self.curves[index])
        return None if best is None else best["step"]

    def best_val_loss(self, index: int) -> float:
        step = self.best_val_step(index)
        return math.inf if step is None else self.row_at(index, step)["val_loss"]

    @property
    def test_figure(self) -> str:
        """The task's own test figure: accuracy, or exact match for a causal LM."""
        return "test_exact_match" if self.spec.model.task == "causal-lm" else "test_accuracy"

    def oracle(self) -> tuple[int, int]:
        """The table's best-validation checkpoint (configuration, step): what regret is
        measured against."""
        index = min(range(len(self.configs)), key=lambda i: (self.best_val_loss(i), i))
        return index, self.best_val_step(index)

    def top_configs(self, share: float = 0.05) -> set[int]:
        """The configurations whose best validation loss over the full budget is in the
        table's top ``share``."""
        order = sorted(range(len(self.configs)), key=lambda i: (self.best_val_loss(i), i))
        return set(order[:max(1, math.ceil(share * len(order)))])

    def interval_seconds(self, index: int) -> list[float]:
        """The seconds each evaluation interval of the curve took in the table: its steps
        and its evaluation (not the test pass, which no sweep makes)."""
        seconds, previous = [], 0
        for row in self.curves[index]["evaluations"]:
            steps = row["step"] - previous
            seconds.append(steps * row["seconds_per_step"] + row["eval_seconds"])
            previous = row["step"]
        return seconds

    def startup_seconds(self) -> float:
        """A trial's start-up in a warm slot: the median over the table's configurations."""
        import statistics

        return statistics.median(entry.get("startup_seconds", 0.0) for entry in self.configs)
