"""Ray Tune's trial loop, in simulated time, over a learning-curve table.

The searcher, scheduler and stopper are the real objects a sweep builds (basin's own through
``search/``'s builders, or Ray's), and they are called the way Ray Tune 2.60's
``TuneController`` calls them (``ray/tune/execution/tune_controller.py``):

- the searcher sits behind Ray's own ``ConcurrencyLimiter`` (what ``max_concurrent_trials``
  does), is asked for a configuration whenever a slot is free, until ``num_samples`` were
  suggested; the scheduler hears of each new trial (``on_trial_add``);
- each report goes to the stopper first; only if it lets the trial go on, to the scheduler
  (``on_trial_result``); only if neither stops it, to the searcher (``on_trial_result``);
- a stopped trial, and a trial whose function returned (Ray's "done" result, which the stopper
  sees again), ends with the scheduler's and then the searcher's ``on_trial_complete`` with its
  last result, and its slot goes to the next suggestion at once;
- a trial the scheduler pauses (PAUSE) keeps its place in its curve and gives its slot up; the
  scheduler's ``choose_trial_to_run`` resumes it, after the searcher was asked, from where it
  stopped (a paused trial the scheduler stops hears ``on_trial_remove`` and the searcher's
  ``on_trial_complete`` without a result).

What is simulated is only what a trial is: the tabulated curve of the configuration nearest to
the one suggested (one of its seeds' curves, where the table has replicates: seed_draw.py), each
evaluation reported after the seconds its steps and its evaluation took
in the table (a trial that diverged there reports what basin's trainable reports when the loss
becomes non-finite). ``tests/benchmarks/test_replay_fidelity.py`` runs the same replay under a
real ``basin run`` and checks that the decisions agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from benchmarks.curve_table import CurveTable
from benchmarks.replay.clock import Budget, Clock
from benchmarks.replay.seed_draw import SeedDraw


@dataclass
class ReplayTrial:
    """One trial of a replayed sweep."""

    trial_id: str
    number: int
    params: dict[str, Any]
    config: int  # the tabulated configuration answering it
    curve: int  # and the seed's curve of it that does (the configuration's own: seed 0)
    ray_trial: Any
    reports: list[dict[str, Any]]  # what it will report, in order
    seconds: list[float]
    started: float
    results: list[dict[str, Any]] = field(default_factory=list)  # what it did report
    ended: bool = False

    @property
    def last_step(self) -> int:
        steps = [r["step"] for r in self.results if _is_number(r.get("step"))]
        return int(steps[-1]) if steps else 0


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def diverged_report(objective: str, reason: str) -> dict[str, Any]:
    """What basin's trainable reports when a trial's loss becomes non-finite
    (``trainables/trial/entry.py``, ``report_outcome``)."""
    from trainables.contract import OUTCOME, OUTCOME_DIVERGED, OUTCOME_REASON, REPORTED_METRICS

    report = {name: math.nan for name in REPORTED_METRICS}
    report.update({"is_final": False, OUTCOME: OUTCOME_DIVERGED, OUTCOME_REASON: reason,
                   objective: math.nan})
    return report


class TuneReplay:
    """One replayed sweep: ``run`` drives the decision objects through the table's curves."""

    def __init__(self, table: CurveTable, searcher: Any, scheduler: Any, stopper: Any,
                 num_samples: int, max_concurrent: int, metric: str, mode: str,
                 budget: Budget | None = None, draw: SeedDraw | None = None):
        from ray.tune.search import ConcurrencyLimiter

        self.table = table
        self.searcher = ConcurrencyLimiter(searcher, max_concurrent=max_concurrent)
        self.searcher.set_search_properties(metric, mode, {})
        self.scheduler = scheduler
        self.scheduler.set_search_properties(metric, mode)
        self.stopper = stopper
        self.num_samples = num_samples
        self.metric = metric
        self.budget = budget
        self.draw = draw  # None: every visit sees the table's own seed
        self.clock = Clock()
        self.trials: dict[str, ReplayTrial] = {}
        self.running = 0
        self.startup = table.startup_seconds()

    # The controller the scheduler's hooks receive (the part of it Ray lets schedulers use).
    def get_trials(self) -> list[Any]:
        return [trial.ray_trial for trial in self.trials.values()]

    @property
    def search_alg(self) -> Any:
        return self

    def is_finished(self) -> bool:
        """Whether the searcher was asked for every trial (Ray's SearchGenerator)."""
        return len(self.trials) >= self.num_samples

    def _set_trial_status(self, ray_trial: Any, status: str) -> None:
        ray_trial.set_status(status)

    def stop_trial(self, ray_trial: Any) -> None:
        """Ray's ``stop_trial`` of a paused trial."""
        from ray.tune.experiment import Trial

        trial = self.trials[ray_trial.trial_id]
        self.scheduler.on_trial_remove(self, ray_trial)
        self.searcher.on_trial_complete(trial.trial_id)
        ray_trial.set_status(Trial.TERMINATED)
        trial.ended = True

    def run(self) -> list[ReplayTrial]:
        """Replay the sweep to its end; its trials in the order they were suggested."""
        self._fill()
        while (event := self.clock.next()) is not None:
            trial = self.trials[event.trial_id]
            if event.kind == "report":
                self._report(trial)
            else:  # the trial's function returned: Ray's "done" result
                self._done(trial)
            self._fill()
        return list(self.trials.values())

    def _fill(self) -> None:
        """Ask for configurations while a slot is free and the sweep wants more trials, then
        let the scheduler resume paused ones (Ray asks the searcher first)."""
        self._suggest()
        self._resume()

    def _resume(self) -> None:
        from ray.tune.experiment import Trial

        while (ray_trial := self.scheduler.choose_trial_to_run(self)) is not None:
            if ray_trial.status != Trial.PAUSED:
                return
            trial = self.trials[ray_trial.trial_id]
            ray_trial.set_status(Trial.RUNNING)
            self.running += 1
            self._schedule_next(trial, self.clock.now + self.startup)

    def _suggest(self) -> None:
        from ray.tune.experiment import Trial

        while len(self.trials) < self.num_samples:
            trial_id = f"{len(self.trials):05d}"
            params = self.searcher.suggest(trial_id)
            if params is None:
                return
            config = self.table.nearest(params)
            curve = config if self.draw is None else self.draw.visit(config)
            reports = self.table.reports(curve)
            seconds = self.table.interval_seconds(curve)
            if (step := self.table.diverged_at(curve)) is not None:
                previous = reports[-1]["step"] if reports else 0
                reports.append(diverged_report(self.metric, self.table.curves[curve]["reason"]))
                seconds.append((step - previous) * _per_step(self.table, curve))
            ray_trial = Trial("replay", config=params, trial_id=trial_id, stub=True)
            trial = ReplayTrial(trial_id, len(self.trials), params, config, curve, ray_trial,
                                reports, seconds, self.clock.now)
            self.trials[trial_id] = trial
            self.scheduler.on_trial_add(self, ray_trial)
            ray_trial.set_status(Trial.RUNNING)
            self.running += 1
            self._schedule_next(trial, self.clock.now + self.startup)

    def _schedule_next(self, trial: ReplayTrial, now: float) -> None:
        index = len(trial.results)
        if index < len(trial.reports):
            self.clock.at(now + trial.seconds[index], trial.trial_id)
        else:
            self.clock.at(now, trial.trial_id, kind="done")

    def _report(self, trial: ReplayTrial) -> None:
        from ray.tune.schedulers import TrialScheduler

        report = trial.reports[len(trial.results)]
        result = {**report, "training_iteration": len(trial.results) + 1,
                  "trial_id": trial.trial_id, "done": False,
                  "time_total_s": self.clock.now - trial.started}
        if self.budget is not None and _is_number(report.get("step")):
            self.budget.spend(int(report["step"]) - trial.last_step)
        if self.stopper is not None and self.stopper(trial.trial_id, result):
            decision = TrialScheduler.STOP
        else:
            decision = self.scheduler.on_trial_result(self, trial.ray_trial, result)
        if decision != TrialScheduler.STOP:
            self.searcher.on_trial_result(trial.trial_id, result)
        trial.ray_trial.update_last_result(result)
        trial.results.append(result)
        if decision == TrialScheduler.STOP:
            result["done"] = True
            self._end(trial)
        elif decision == TrialScheduler.PAUSE:
            from ray.tune.experiment import Trial

            trial.ray_trial.set_status(Trial.PAUSED)
            self.running -= 1
        else:
            self._schedule_next(trial, self.clock.now)

    def _done(self, trial: ReplayTrial) -> None:
        last = trial.results[-1] if trial.results else {"trial_id": trial.trial_id}
        last["done"] = True
        if self.stopper is not None:
            self.stopper(trial.trial_id, last)  # Ray asks it; the trial ends whatever it says
        self._end(trial)

    def _end(self, trial: ReplayTrial) -> None:
        from ray.tune.experiment import Trial

        last = trial.results[-1] if trial.results else {}
        self.scheduler.on_trial_complete(self, trial.ray_trial, last)
        self.searcher.on_trial_complete(trial.trial_id, result=last)
        trial.ray_trial.set_status(Trial.TERMINATED)
        trial.ended = True
        self.running -= 1


def _per_step(table: CurveTable, curve: int) -> float:
    rows = table.curves[curve]["evaluations"]
    return rows[-1]["seconds_per_step"] if rows else 0.1
