"""Methods that are not Ray Tune sweeps, in the same simulated time: Optuna on its own with a
pruner (what transformers' ``hyperparameter_search`` runs), and "one epoch, then the best"
(Egele et al. 2023).

transformers' ``Trainer`` reports the objective at every evaluation to the Optuna trial
(``trial.report(objective, step)``), stops the trial when ``trial.should_prune()`` says so, and
tells the study the objective of its final evaluation; ``hyperparameter_search`` hands on the
study's best trial's configuration. With several trials at a time this is ``study.optimize``
with ``n_jobs``: a trial is asked for whenever a slot is free.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Callable

from benchmarks.curve_table import CurveTable
from benchmarks.replay.clock import Budget, Clock
from benchmarks.replay.replayed import Pick, Replayed, Setting


def _pruner(kind: str, spec: Any) -> Any:
    import optuna

    grace, factor = spec.scheduler.grace_period, int(spec.scheduler.reduction_factor)
    if kind == "none":
        return optuna.pruners.NopPruner()
    if kind == "sha":
        return optuna.pruners.SuccessiveHalvingPruner(
            min_resource=grace, reduction_factor=factor, min_early_stopping_rate=0)
    return optuna.pruners.HyperbandPruner(min_resource=grace, max_resource=spec.training.max_steps,
                                          reduction_factor=factor)


def optuna_replay(table: CurveTable, spec: Any, setting: Setting, pruner: str,
                  thresholds: list[float], name: str, sampler: str = "tpe") -> Replayed:
    """An Optuna study with ``pruner`` ("sha", "hyperband" or "none") over the table,
    ``setting.concurrency`` trials at a time; ``sampler`` "tpe" (the sweep's TPE settings, as
    basin's, so that the comparison is about the loop) or "gp" (Optuna's GPSampler)."""
    return _PrunedStudy(table, spec, setting, pruner, thresholds, name, sampler).run()


def _sampler(kind: str, setting: Setting) -> Any:
    import optuna

    from search.tune.optuna_search import make_sampler

    if kind == "gp":
        return optuna.samplers.GPSampler(seed=setting.seed)
    return make_sampler(kind, setting.seed, setting.trials)


class _PrunedStudy:
    """One Optuna study replayed over a table as ``study.optimize(n_jobs=...)`` runs it: a
    trial is asked for whenever a slot is free, each evaluation is reported to it, and it
    ends when the pruner says so, at its last evaluation, or when its loss is not finite."""

    def __init__(self, table: CurveTable, spec: Any, setting: Setting, pruner: str,
                 thresholds: list[float], name: str, sampler: str = "tpe") -> None:
        import optuna

        from search.sampling.space import split_space

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.optuna, self.table, self.setting = optuna, table, setting
        self.metric, self.mode, self.name = spec.objective.metric, spec.objective.mode, name
        # A fixed name: HyperbandPruner assigns each trial's bracket by a hash of it.
        self.study = optuna.create_study(
            study_name=f"replay-{name}",
            sampler=_sampler(sampler, setting),
            pruner=_pruner(pruner, spec),
            direction="minimize" if self.mode == "min" else "maximize")
        self.distributions, _ = split_space(spec.space)
        self.live: dict[int, dict[str, Any]] = {}
        self.configs: dict[int, int] = {}  # each trial's configuration, by its number
        self.curves: dict[int, int] = {}  # and the seed's curve that answers it
        self.draw = setting.draw(table)
        self.stopped: list[tuple[int, str, int]] = []
        self.clock = Clock()
        self.budget = Budget(thresholds, self.pick)

    def pick(self) -> Pick | None:
        """The configuration of the study's best completed trial, as Optuna hands it on."""
        done = self.study.get_trials(deepcopy=False,
                                     states=(self.optuna.trial.TrialState.COMPLETE,))
        if not done:
            return None
        sign = 1 if self.mode == "min" else -1
        best = min(done, key=lambda t: (sign * t.value, t.number))
        curve = self.curves[best.number]
        return (curve if self.draw is None else self.draw.retrained(curve)), None

    def fill(self) -> None:
        """Ask for trials while a slot is free and the budget of trials is not spent."""
        table, clock = self.table, self.clock
        while len(self.configs) < self.setting.trials and \
                len(self.live) < self.setting.concurrency:
            trial = self.study.ask(self.distributions)
            config = table.nearest(trial.params)
            curve = config if self.draw is None else self.draw.visit(config)
            self.configs[trial.number], self.curves[trial.number] = config, curve
            state = {"trial": trial, "rows": table.curves[curve]["evaluations"],
                     "seconds": table.interval_seconds(curve), "next": 0, "step": 0}
            self.live[trial.number] = state
            clock.at(clock.now + table.startup_seconds() + state["seconds"][0]
                     if state["rows"] else clock.now, str(trial.number))

    def end(self, number: int, kind: str, step: int) -> None:
        """Tell the study a trial ended early: PRUNED for the pruner, FAIL otherwise."""
        states = self.optuna.trial.TrialState
        self.study.tell(self.live[number]["trial"],
                        state=states.PRUNED if kind == "pruner" else states.FAIL)
        self.stopped.append((self.curves[number], kind, step))

    def evaluate(self, number: int) -> bool:
        """The trial's next evaluation; whether the trial ended with it."""
        state = self.live[number]
        trial, rows = state["trial"], state["rows"]
        if state["next"] >= len(rows):  # it diverged before any evaluation
            self.end(number, "diverged", 0)
            return True
        row = rows[state["next"]]
        self.budget.spend(row["step"] - state["step"])
        state["step"], state["next"] = row["step"], state["next"] + 1
        value = row[self.metric]
        if not math.isfinite(value):
            self.end(number, "diverged", row["step"])
            return True
        trial.report(value, row["step"])
        if state["next"] == len(rows):  # its last evaluation
            if self.table.diverged_at(self.curves[number]) is not None:  # NaN from here on
                self.end(number, "diverged", row["step"])
            else:
                self.study.tell(trial, value)
            return True
        if trial.should_prune():
            self.end(number, "pruner", row["step"])
            return True
        self.clock.at(self.clock.now + state["seconds"][state["next"]], str(number))
        return False

    def run(self) -> Replayed:
        """Replay the study to its last trial's end."""
        self.fill()
        while (event := self.clock.next()) is not None:
            number = int(event.trial_id)
            if self.evaluate(number):
                del self.live[number]
                self.fill()
        anytime = self.budget.close()
        return Replayed(self.name, anytime[-1], self.budget.steps, self.clock.now, anytime,
                        self.stopped, [self.configs[n] for n in sorted(self.configs)])


def _run_jobs(table: CurveTable, jobs: list[tuple[int, int, int]], concurrency: int,
              clock: Clock, budget: Budget, score: Callable[[dict], float | None],
              seen: list[tuple[float, int, int]]) -> None:
    """Run (curve, first row, end step) jobs, ``concurrency`` at a time, on ``clock``; every
    evaluation's steps are spent from ``budget`` and its (score, curve, step) added to
    ``seen`` where ``score`` gives one (a finite loss)."""
    queue, live, keys = list(jobs), {}, itertools.count()

    def start() -> None:
        while queue and len(live) < concurrency:
            key = str(next(keys))
            curve, first, end = queue.pop(0)
            live[key] = [curve, first, end, 0 if first == 0 else
                         table.curves[curve]["evaluations"][first - 1]["step"]]
            seconds = table.interval_seconds(curve)
            rows = table.curves[curve]["evaluations"]
            wait = (seconds[first] if first < len(rows) else 0.0) + table.startup_seconds()
            clock.at(clock.now + wait, key)

    start()
    while (event := clock.next()) is not None:
        curve, index, end, done_step = live[event.trial_id]
        rows = table.curves[curve]["evaluations"]
        if index < len(rows):
            row = rows[index]
            budget.spend(row["step"] - done_step)
            if (value := score(row)) is not None:
                seen.append((value, curve, row["step"]))
            if row["step"] < end and index + 1 < len(rows):
                live[event.trial_id] = [curve, index + 1, end, row["step"]]
                clock.at(clock.now + table.interval_seconds(curve)[index + 1], event.trial_id)
                continue
        del live[event.trial_id]
        start()


def one_epoch_replay(table: CurveTable, spec: Any, setting: Setting, thresholds: list[float],
                     name: str) -> Replayed:
    """Random configurations, each trained to the first rung (the sweep's grace period); then
    the best quarter by validation loss there (at least one) trained on to the full budget from
    their checkpoints. Hands on the best-validation checkpoint of all."""
    import optuna

    from search.sampling.space import split_space

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    metric, mode = spec.objective.metric, spec.objective.mode
    sign = 1 if mode == "min" else -1
    sampler = optuna.samplers.RandomSampler(seed=setting.seed)
    study = optuna.create_study(sampler=sampler)
    distributions, _ = split_space(spec.space)
    configs = [table.nearest(study.ask(distributions).params) for _ in range(setting.trials)]
    draw = setting.draw(table)
    curves = [config if draw is None else draw.visit(config) for config in configs]
    rung = spec.scheduler.grace_period
    seen: list[tuple[float, int, int]] = []  # (score, curve, step) of every evaluation

    def pick() -> Pick | None:
        return (min(seen)[1], min(seen)[2]) if seen else None

    budget = Budget(thresholds, pick)
    clock = Clock()

    def score(row: dict) -> float | None:
        return sign * row[metric] if math.isfinite(row[metric]) else None

    _run_jobs(table, [(curve, 0, rung) for curve in curves], setting.concurrency, clock,
              budget, score, seen)
    at_rung = []  # the best quarter goes on from its checkpoint: the same curve, its seed
    for curve in curves:
        rows = [r for r in table.curves[curve]["evaluations"] if r["step"] <= rung]
        last = score(rows[-1]) if rows else None
        at_rung.append((math.inf if last is None else last, curve, len(rows)))
    keep = max(1, round(setting.trials / 4))
    ranked = sorted(range(len(at_rung)), key=lambda i: (at_rung[i][0], i))
    chosen = set(ranked[:keep])
    stopped = [(at_rung[i][1], "first rung", rung) for i in range(len(at_rung))
               if i not in chosen]
    _run_jobs(table, [(at_rung[i][1], at_rung[i][2], spec.training.max_steps)
                      for i in ranked[:keep]], setting.concurrency, clock, budget, score, seen)
    anytime = budget.close()
    return Replayed(name, anytime[-1], budget.steps, clock.now, anytime, stopped, configs)
