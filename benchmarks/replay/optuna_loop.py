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
from typing import TYPE_CHECKING, Any

from benchmarks.curve_table import CurveTable
from benchmarks.replay.clock import Budget, Clock

if TYPE_CHECKING:
    from benchmarks.replay.methods import Pick, Replayed, Setting


def _pruner(kind: str, spec: Any) -> Any:
    import optuna

    grace, factor = spec.scheduler.grace_period, int(spec.scheduler.reduction_factor)
    if kind == "sha":
        return optuna.pruners.SuccessiveHalvingPruner(
            min_resource=grace, reduction_factor=factor, min_early_stopping_rate=0)
    return optuna.pruners.HyperbandPruner(min_resource=grace, max_resource=spec.training.max_steps,
                                          reduction_factor=factor)


def optuna_replay(table: CurveTable, spec: Any, setting: Setting, pruner: str,
                  thresholds: list[float], name: str) -> Replayed:
    """An Optuna study with ``pruner`` over the table, ``setting.concurrency`` trials at a
    time, the sweep's TPE settings (as basin's, so that the comparison is about the loop)."""
    import optuna

    from benchmarks.replay.methods import Replayed
    from search.sampling.space import split_space
    from search.tune.optuna_search import make_sampler

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    metric, mode = spec.objective.metric, spec.objective.mode
    # A fixed name: HyperbandPruner assigns each trial's bracket by a hash of it.
    study = optuna.create_study(
        study_name=f"replay-{name}", sampler=make_sampler("tpe", setting.seed, setting.trials),
        pruner=_pruner(pruner, spec), direction="minimize" if mode == "min" else "maximize")
    distributions, _ = split_space(spec.space)
    live: dict[int, dict[str, Any]] = {}
    configs: dict[int, int] = {}
    stopped: list[tuple[int, str, int]] = []
    clock = Clock()

    def pick() -> Pick | None:
        done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        if not done:
            return None
        sign = 1 if mode == "min" else -1
        best = min(done, key=lambda t: (sign * t.value, t.number))
        return configs[best.number], None

    budget = Budget(thresholds, pick)

    def fill() -> None:
        while len(configs) < setting.trials and len(live) < setting.concurrency:
            trial = study.ask(distributions)
            config = table.nearest(trial.params)
            configs[trial.number] = config
            live[trial.number] = {"trial": trial, "rows": table.configs[config]["evaluations"],
                                  "seconds": table.interval_seconds(config), "next": 0,
                                  "step": 0}
            clock.at(clock.now + table.startup_seconds() + live[trial.number]["seconds"][0]
                     if live[trial.number]["rows"] else clock.now, str(trial.number))

    fill()
    while (event := clock.next()) is not None:
        number = int(event.trial_id)
        state = live[number]
        trial, rows = state["trial"], state["rows"]
        if state["next"] >= len(rows):  # it diverged before any evaluation
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            stopped.append((configs[number], "diverged", 0))
            del live[number]
            fill()
            continue
        row = rows[state["next"]]
        budget.spend(row["step"] - state["step"])
        state["step"], state["next"] = row["step"], state["next"] + 1
        value = row[metric]
        last = state["next"] == len(rows)
        if not math.isfinite(value):
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            stopped.append((configs[number], "diverged", row["step"]))
        elif last:
            trial.report(value, row["step"])
            if table.diverged_at(configs[number]) is not None:  # NaN from here on: FAIL
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                stopped.append((configs[number], "diverged", row["step"]))
            else:
                study.tell(trial, value)
        else:
            trial.report(value, row["step"])
            if trial.should_prune():
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                stopped.append((configs[number], "pruner", row["step"]))
            else:
                clock.at(clock.now + state["seconds"][state["next"]], event.trial_id)
                continue
        del live[number]
        fill()
    anytime = budget.close()
    return Replayed(name, anytime[-1], budget.steps, clock.now, anytime, stopped,
                    [configs[n] for n in sorted(configs)])


def one_epoch_replay(table: CurveTable, spec: Any, setting: Setting, thresholds: list[float],
                     name: str) -> Replayed:
    """Random configurations, each trained to the first rung (the sweep's grace period); then
    the best quarter by validation loss there (at least one) trained on to the full budget from
    their checkpoints. Hands on the best-validation checkpoint of all."""
    import optuna

    from benchmarks.replay.methods import Replayed
    from search.sampling.space import split_space

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    metric, mode = spec.objective.metric, spec.objective.mode
    sign = 1 if mode == "min" else -1
    sampler = optuna.samplers.RandomSampler(seed=setting.seed)
    study = optuna.create_study(sampler=sampler)
    distributions, _ = split_space(spec.space)
    configs = [table.nearest(study.ask(distributions).params) for _ in range(setting.trials)]
    rung = spec.scheduler.grace_period
    seen: list[tuple[float, int, int]] = []  # (score, config, step) of every evaluation

    def pick() -> Pick | None:
        return (min(seen)[1], min(seen)[2]) if seen else None

    budget = Budget(thresholds, pick)
    clock = Clock()
    stopped: list[tuple[int, str, int]] = []

    def run_jobs(jobs: list[tuple[int, int, int]]) -> None:
        """Run (config, first row, end step) jobs, ``concurrency`` at a time."""
        queue, live, keys = list(jobs), {}, itertools.count()

        def start() -> None:
            while queue and len(live) < setting.concurrency:
                key = str(next(keys))
                config, first, end = queue.pop(0)
                live[key] = [config, first, end, 0 if first == 0 else
                             table.configs[config]["evaluations"][first - 1]["step"]]
                seconds = table.interval_seconds(config)
                rows = table.configs[config]["evaluations"]
                wait = (seconds[first] if first < len(rows) else 0.0) + table.startup_seconds()
                clock.at(clock.now + wait, key)

        start()
        while (event := clock.next()) is not None:
            config, index, end, done_step = live[event.trial_id]
            rows = table.configs[config]["evaluations"]
            if index < len(rows):
                row = rows[index]
                budget.spend(row["step"] - done_step)
                if math.isfinite(row[metric]):
                    seen.append((sign * row[metric], config, row["step"]))
                if row["step"] < end and index + 1 < len(rows):
                    live[event.trial_id] = [config, index + 1, end, row["step"]]
                    clock.at(clock.now + table.interval_seconds(config)[index + 1],
                             event.trial_id)
                    continue
            del live[event.trial_id]
            start()

    run_jobs([(config, 0, rung) for config in configs])
    at_rung = []
    for config in configs:
        rows = [r for r in table.configs[config]["evaluations"] if r["step"] <= rung]
        score = sign * rows[-1][metric] if rows and math.isfinite(rows[-1][metric]) else math.inf
        at_rung.append((score, config, len(rows)))
    keep = max(1, round(setting.trials / 4))
    ranked = sorted(range(len(at_rung)), key=lambda i: (at_rung[i][0], i))
    chosen = set(ranked[:keep])
    stopped = [(at_rung[i][1], "first rung", rung) for i in range(len(at_rung))
               if i not in chosen]
    run_jobs([(at_rung[i][1], at_rung[i][2], spec.training.max_steps) for i in ranked[:keep]])
    anytime = budget.close()
    return Replayed(name, anytime[-1], budget.steps, clock.now, anytime, stopped, configs)
