"""``basin confirm``: re-train the top candidates with new seeds, rank them by mean and spread.

A checkpoint that won the sweep may have won on a lucky seed. Each of the top K candidates
(a configuration and the step it was chosen at, from any eligible trial, stopped or not) is
re-trained with N seeds that the sweep never used, as Ray Tune trials with the sweep's
resources, to its step with the sweep's learning-rate schedule (its recipe) and no stopping.
The objective at that step is averaged over the seeds; if the data has a test split, each
re-trained model is evaluated on it once, at that step. The ranking goes to confirm.json, and
from then on its winner is the run's choice (``basin best``, best.yaml, ``basin export``).
"""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from ray import tune
from rich.console import Console

from search.core.console import counted
from search.core.driver_log import DriverLog
from search.core.errors import SpecError
from search.lifecycle.tracking import make_trackers
from search.report.fitting import Column, print_fitted
from search.report.leaderboard import SHORT_NAMES
from search.selection.candidates import Candidate
from search.selection.choice import Choice
from search.selection.noise import mean_interval, spread_text
from search.store.rundir import RunDir
from search.store.stop_ledger import StopLedger
from search.tune.cluster import start_ray
from search.tune.progress import ProgressPrinter
from search.tune.tracker_callback import TrackerCallback
from search.tune.tuner import build_tuner, fit, make_trainable
from trainables.contract import OUTCOME, STEP
from trainables.tasks import declared
from trainables.trial.entry import run_trial


@dataclass
class Confirmed:
    """One candidate after re-training its recipe with several seeds."""

    trial_id: str
    step: int
    params: dict[str, Any]
    sweep_objective: float
    seeds: list[int]
    objectives: list[float] = field(default_factory=list)
    # Each test figure of the task (its declaration's test_metrics) over the seeds.
    tests: dict[str, list[float]] = field(default_factory=dict)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.objectives) if self.objectives else float("nan")

    @property
    def spread(self) -> float | None:
        """The sd over the seeds; None for one seed (it has no spread, not a spread of 0)."""
        return statistics.stdev(self.objectives) if len(self.objectives) > 1 else None

    def as_dict(self) -> dict[str, Any]:
        """An entry of confirm.json: each test figure a list of its own, as before; the mean's
        95% interval over the seeds (None for one seed)."""
        fields = asdict(self)
        return {**fields.pop("tests"), **fields, "mean": self.mean, "spread": self.spread,
                "interval": list(interval) if (interval := mean_interval(self.objectives))
                else None}


def _confirm_trial(config: dict, settings: dict) -> None:
    """Tune function: one (candidate, seed) pair, trained to the candidate's step."""
    recipe = config["recipe"]
    training = {**settings["training"], "stop_at_step": recipe[STEP]}
    run_trial({**recipe["hyperparameters"], "seed": config["seed"]},
              {**settings, "training": training})


def confirm_trial_name(trial: Any) -> str:
    """A re-trained candidate's name (its folder, progress lines, W&B run): the sweep trial
    and step it re-trains and its seed, e.g. ``38b85c46-step45-seed1``."""
    recipe = trial.config["recipe"]
    return f"{recipe['trial_id']}-step{recipe['step']}-seed{trial.config['seed']}"


def top_candidates(run: RunDir, choice: Choice, top: int) -> list[Candidate]:
    """The best ``top`` candidates with distinct recipes (a configuration and a step)."""
    leaders = choice.leaders(top)
    if not leaders:
        raise SpecError([f"{run.shown}: no candidate checkpoint to confirm ({choice.why})"])
    return leaders


def confirm(run: RunDir, choice: Choice, top: int, seeds: int, quiet: bool = False,
            log: DriverLog | None = None) -> list[Confirmed]:
    """Re-train the top ``top`` candidates with ``seeds`` new seeds each; write confirm.json."""
    spec = run.spec
    chosen = top_candidates(run, choice, top)
    new_seeds = [spec.training.seed + offset for offset in range(1, seeds + 1)]
    start_ray()
    recipes = [{"hyperparameters": c.params, STEP: c.step, "trial_id": c.trial_id}
               for c in chosen]
    progress = ProgressPrinter(spec.objective.metric, len(chosen) * seeds, quiet=quiet,
                               mode=spec.objective.mode, name_of=confirm_trial_name)
    tracking = TrackerCallback(make_trackers(spec, run, quiet=True, job_type="confirm"),
                               StopLedger(), name_of=confirm_trial_name)
    tuner = build_tuner(
        spec, run, name=f"confirm-{datetime.now().strftime('%Y%m%d-%H%M%S')}", inside_run=True,
        trainable=make_trainable(spec, evaluate_test="last_step", function=_confirm_trial),
        param_space={"recipe": tune.grid_search(recipes), "seed": tune.grid_search(new_seeds)},
        callbacks=[progress, tracking], folder_name=confirm_trial_name)
    try:
        grid = fit(tuner, run, log)
    finally:
        progress.close()
    confirmed = {(c.trial_id, c.step): Confirmed(c.trial_id, c.step, c.params, c.objective,
                                                 new_seeds) for c in chosen}
    by_recipe = {json.dumps(recipe, sort_keys=True): (c.trial_id, c.step)
                 for recipe, c in zip(recipes, chosen)}
    for result in grid:
        if result.error is not None or not result.metrics or OUTCOME in result.metrics:
            continue
        entry = confirmed[by_recipe[json.dumps(result.config["recipe"], sort_keys=True)]]
        entry.objectives.append(result.metrics[spec.objective.metric])
        for metric in declared(spec.model.task).test_metrics:
            if metric in result.metrics:
                entry.tests.setdefault(metric, []).append(result.metrics[metric])
    sign = 1 if spec.objective.mode == "min" else -1
    ordered = sorted(confirmed.values(), key=lambda c: (not c.objectives, sign * c.mean))
    run.confirm_file.write_text(json.dumps(
        [c.as_dict() for c in ordered], indent=2))
    return ordered


def print_confirmed(confirmed: list[Confirmed], run: RunDir, console: Console) -> None:
    spec = run.spec
    metric = spec.objective.metric
    names = list(confirmed[0].params) if confirmed else []
    # The task's headline test figure: accuracy, or perplexity for a causal LM.
    headline = declared(spec.model.task).headline
    seeds = counted(len(confirmed[0].seeds), "new seed")
    title = (f"{spec.name}: confirmed with {seeds} each, ranked by mean {metric} at the "
             f"chosen step ({spec.objective.mode})")
    # Keyed by rank and trial; the interval and the per-seed values may wrap between numbers.
    columns = [Column("rank"), Column("trial", "left"), Column(STEP),
               *[Column(SHORT_NAMES.get(n, n)) for n in names], Column(f"sweep {metric}"),
               Column(f"mean {metric}"), Column("95% interval", wrap=True),
               Column("spread (sd)", wrap=True), Column("per seed", wrap=True),
               Column(f"{headline.replace('_', ' ')} (mean)")]
    rows = []
    for position, entry in enumerate(confirmed, start=1):
        values = entry.tests.get(headline, [])
        test = f"{statistics.fmean(values):.4f}" if values else "-"
        rows.append([
            str(position), entry.trial_id, str(entry.step),
            *[f"{v:.3g}" if isinstance(v, float) else str(v) for v in entry.params.values()],
            f"{entry.sweep_objective:.4f}", f"{entry.mean:.4f}",
            "{:.4f} to {:.4f}".format(*interval) if (interval := mean_interval(entry.objectives))
            else "needs 2 seeds", spread_text(entry.objectives),
            " ".join(f"{v:.4f}" for v in entry.objectives), test])
    print_fitted(console, columns, rows, title, keys=2)
