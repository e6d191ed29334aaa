"""``basin confirm``: re-train the top configurations with new seeds, rank by mean and spread.

A configuration that won the sweep may have won on a lucky seed. Each of the top K completed
trials is re-trained with N seeds that the sweep never used, as Ray Tune trials with the
sweep's resources, to the full budget (no pruning: the point is a fair measurement). If the
data has a test split, each re-trained model's best step is evaluated on it once, at the end.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from ray import tune
from rich.console import Console
from rich.table import Table

from search.progress import ProgressPrinter
from search.results import SHORT_NAMES, TrialRecord, eligible
from search.rundir import CONFIRM_FILE, RunDir
from search.runner import make_trainable, max_concurrent_trials, start_ray
from search.spec import SpecError
from trainables.entry import run_trial


@dataclass
class Confirmed:
    """One configuration after re-training it with several seeds."""

    trial_id: str
    params: dict[str, Any]
    sweep_objective: float | None
    seeds: list[int]
    objectives: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.objectives) if self.objectives else float("nan")

    @property
    def spread(self) -> float:
        return statistics.stdev(self.objectives) if len(self.objectives) > 1 else 0.0


def _confirm_trial(config: dict, settings: dict) -> None:
    """Tune function: one (configuration, seed) pair; the config also names its source trial."""
    run_trial({**config["hyperparameters"], "seed": config["seed"]}, settings)


def top_configurations(run: RunDir, records: list[TrialRecord], top: int) -> list[TrialRecord]:
    """The best ``top`` completed trials with distinct configurations (a configuration that
    several trials drew is confirmed once, under its best trial)."""
    chosen: dict[str, TrialRecord] = {}
    for record in eligible(records, run.spec.objective.mode):
        chosen.setdefault(json.dumps(record.params, sort_keys=True), record)
    if not chosen:
        raise SpecError([f"{run.shown}: no completed trial to confirm"])
    return list(chosen.values())[:top]


def confirm(run: RunDir, records: list[TrialRecord], top: int, seeds: int,
            quiet: bool = False) -> list[Confirmed]:
    """Re-train the top ``top`` configurations with ``seeds`` new seeds each."""
    spec = run.spec
    chosen = top_configurations(run, records, top)
    new_seeds = [spec.training.seed + offset for offset in range(1, seeds + 1)]
    start_ray()
    name = f"confirm-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    tuner = tune.Tuner(
        make_trainable(spec, evaluate_test=True, function=_confirm_trial),
        param_space={
            "hyperparameters": tune.grid_search([r.params for r in chosen]),
            "seed": tune.grid_search(new_seeds),
        },
        tune_config=tune.TuneConfig(max_concurrent_trials=max_concurrent_trials(spec),
                                    reuse_actors=False),
        run_config=tune.RunConfig(
            name=name, storage_path=run.location, verbose=0,
            callbacks=[ProgressPrinter(spec.objective.metric, len(chosen) * seeds, quiet)],
            checkpoint_config=tune.CheckpointConfig(
                num_to_keep=1, checkpoint_score_attribute=spec.objective.metric,
                checkpoint_score_order=spec.objective.mode),
        ),
    )
    grid = tuner.fit()
    confirmed = {r.trial_id: Confirmed(r.trial_id, r.params, r.best_objective, new_seeds)
                 for r in chosen}
    by_params = {json.dumps(r.params, sort_keys=True): r.trial_id for r in chosen}
    for result in grid:
        if result.error is not None or not result.metrics:
            continue
        key = json.dumps(result.config["hyperparameters"], sort_keys=True)
        entry = confirmed[by_params[key]]
        entry.objectives.append(result.metrics["best_objective"])
        for metric in ("test_accuracy", "test_loss"):
            if metric in result.metrics:
                getattr(entry, metric).append(result.metrics[metric])
    sign = 1 if spec.objective.mode == "min" else -1
    ordered = sorted(confirmed.values(), key=lambda c: (not c.objectives, sign * c.mean))
    (run.path / CONFIRM_FILE).write_text(json.dumps(
        [asdict(c) | {"mean": c.mean, "spread": c.spread} for c in ordered], indent=2))
    return ordered


def print_confirmed(confirmed: list[Confirmed], run: RunDir, console: Console) -> None:
    spec = run.spec
    metric = spec.objective.metric
    names = list(confirmed[0].params) if confirmed else []
    table = Table(title=f"{spec.name}: confirmed with {len(confirmed[0].seeds)} new seeds "
                        f"each, ranked by mean {metric} ({spec.objective.mode})")
    for column in ["rank", "trial", *[SHORT_NAMES.get(n, n) for n in names],
                   f"sweep {metric}", f"mean {metric}", "spread (sd)", "per seed",
                   "test accuracy (mean)"]:
        table.add_column(column, overflow="fold")
    for position, entry in enumerate(confirmed, start=1):
        test = (f"{statistics.fmean(entry.test_accuracy):.4f}" if entry.test_accuracy else "-")
        table.add_row(
            str(position), entry.trial_id,
            *[f"{v:.3g}" if isinstance(v, float) else str(v) for v in entry.params.values()],
            "-" if entry.sweep_objective is None else f"{entry.sweep_objective:.4f}",
            f"{entry.mean:.4f}", f"{entry.spread:.4f}",
            " ".join(f"{v:.4f}" for v in entry.objectives), test)
    console.print(table)
