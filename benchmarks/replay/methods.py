"""The search methods the replay benchmark compares, each as its users would run it.

  random       basin's sweep: random sampler, no scheduler, no stopping rule; every trial
               trains its whole budget; hands on the best-validation checkpoint of any trial
  random+asha  Ray Tune with random search (Optuna's RandomSampler behind Ray's OptunaSearch)
               and ASHAScheduler; hands on ResultGrid.get_best_result()'s configuration
  tpe          basin's sweep with TPE at full budget (no scheduler, no stopping rule)
  ray          Ray Tune's OptunaSearch (TPE) + ASHAScheduler as Ray ships them
  ray-all      the same, handing on get_best_result(scope="all"): the trial with the best
               objective at any of its reports, not at its last
  hf           transformers' hyperparameter_search: Optuna TPE with its SuccessiveHalvingPruner,
               hands on the study's best trial's configuration
  hyperband    Optuna TPE with its HyperbandPruner, handing on like hf
  gp           Optuna's GPSampler on its own, no pruner: every trial trains its whole budget;
               hands on the study's best trial's configuration, like hf
  one-epoch    every configuration (random) to the first rung, then the best quarter to the end
               (Egele et al. 2023, "Is one epoch all you need?"); the best checkpoint
  basin        basin as shipped: the table's sweep file's searcher, ASHA, stopping rules and
               selection, built by search/lifecycle/decisions.py's ``decisions`` as ``basin run``
               builds them

The ASHA and pruner rungs are the sweep file's (``scheduler.grace_period`` and
``reduction_factor``) for every method that has rungs. Ray's and Optuna's methods keep no
checkpoint they hand on: their configuration is trained once more to the full budget and scored
at its best validation step (as RESULTS.md section 1 did); those steps are counted apart.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from benchmarks.curve_table import CurveTable
from benchmarks.replay.clock import Budget
from benchmarks.replay.controller import ReplayTrial, TuneReplay
from benchmarks.replay.optuna_loop import one_epoch_replay, optuna_replay
from benchmarks.replay.replayed import Pick, Replayed, Setting
from search.stopping import StoppingSpec


def _spec(table: CurveTable, setting: Setting, overrides: dict[str, Any]) -> Any:
    search = {"num_trials": setting.trials, "max_concurrent_trials": setting.concurrency,
              "seed": setting.seed, **overrides.pop("search", {})}
    return table.sweep_spec({"search": search, **overrides})


NO_RULES = {name: None for name in StoppingSpec.model_fields}  # every stopping rule off


Overrides = "dict[str, Any] | Callable[[CurveTable, Setting], dict[str, Any]]"


def basin_sweep(overrides: Overrides, confirm: tuple[int, int] | None = None
                ) -> Callable[..., Replayed]:
    """A method that is a basin sweep: the table's sweep file with ``overrides`` (or those a
    function of the table gives); with ``confirm`` (K, S), followed by ``basin confirm`` of
    its top K with S new seeds (replay/confirm_replay.py)."""

    def run(table: CurveTable, setting: Setting, thresholds: list[float], name: str
            ) -> Replayed:
        from search.lifecycle.decisions import decisions, study_ref
        from search.selection.choice import choose
        from search.store.records import record_of
        from search.store.stop_ledger import StopLedger
        from search.store.study import RAY_TRIAL_ATTR

        laid = overrides(table, setting) if callable(overrides) else overrides
        spec = _spec(table, setting, {k: dict(v) if isinstance(v, dict) else v
                                      for k, v in laid.items()})
        metric, mode = spec.objective.metric, spec.objective.mode
        decided = decisions(spec, study_ref(spec, f"replay-{name}", table.path, in_memory=True),
                            StopLedger())
        trials: dict[str, ReplayTrial] = {}

        def records() -> list[Any]:
            study = decided.searcher.study
            told = {t.user_attrs.get(RAY_TRIAL_ATTR): t
                    for t in study.get_trials(deepcopy=False)}
            return [record_of(t.trial_id, t.results, told.get(t.trial_id), t.params,
                              _checkpoints(t), metric) for t in trials.values()]

        def pick() -> Pick | None:
            chosen = choose(records(), spec.selection, metric, mode).chosen
            return None if chosen is None else (trials[chosen.trial_id].curve, chosen.step)

        budget = Budget(thresholds, pick)
        draw = setting.draw(table)
        replay = TuneReplay(table, decided.searcher, decided.scheduler, decided.stopper,
                            setting.trials, setting.concurrency, metric, mode, budget, draw)
        replay.trials = trials
        np.random.seed(setting.seed)  # ASHA draws each trial's bracket from NumPy's generator
        replay.run()
        anytime = budget.close()
        final = sorted(records(), key=lambda r: r.trial_id)
        stopped = [(trials[r.trial_id].curve, r.outcome.kind, r.outcome.step or 0)
                   for r in final if r.outcome.status != "completed"]
        ended = [(trials[r.trial_id].config, r.outcome.kind, r.outcome.step) for r in final]
        handed, steps, extra = anytime[-1], budget.steps, {}
        if confirm is not None:
            from benchmarks.replay.confirm_replay import confirmed_pick

            leaders = [(trials[c.trial_id].curve, c.step) for c in
                       choose(final, spec.selection, metric, mode).leaders(confirm[0])]
            handed, done = confirmed_pick(table, draw, leaders, *confirm, budget.steps,
                                          metric, mode)
            steps, extra = steps + done["steps"], {"confirm": done}
        return Replayed(name, handed, steps, replay.clock.now, anytime, stopped,
                        [t.config for t in trials.values()], ended, extra)

    return run


def _checkpoints(trial: ReplayTrial) -> dict[int, str]:
    """Every evaluation a trial reported saved a candidate checkpoint (as basin's trial does)."""
    from trainables.contract import OUTCOME

    return {int(r["step"]): f"table:{trial.config}@{int(r['step'])}" for r in trial.results
            if OUTCOME not in r and isinstance(r.get("step"), (int, float))
            and math.isfinite(r["step"])}


def best_result(trials: Any, metric: str, mode: str, scope: str) -> ReplayTrial | None:
    """The trial ``ResultGrid.get_best_result(metric, mode, scope)`` returns: by its last
    reported objective ("last") or its best over all its reports ("all"), NaN left out; the
    first asked of equal ones."""
    sign = 1 if mode == "min" else -1
    ranked = []
    for trial in trials:
        values = [sign * r[metric] for r in trial.results if _finite(r.get(metric))]
        if scope == "last":
            values = values[-1:] if trial.results and _finite(trial.results[-1].get(metric)) \
                else []
        if values:
            ranked.append((min(values), trial.number, trial))
    return min(ranked, key=lambda item: item[:2])[2] if ranked else None


def ray_tune(sampler: str, scope: str = "last") -> Callable[..., Replayed]:
    """Ray Tune's OptunaSearch with ``sampler`` and Ray's ASHAScheduler, the sweep file's
    rungs; hands on ``ResultGrid.get_best_result(scope=scope)``'s configuration ("last": the
    trial whose last reported objective is best, as Ray defaults; "all": whose best report is),
    trained once more."""

    def run(table: CurveTable, setting: Setting, thresholds: list[float], name: str
            ) -> Replayed:
        from ray.tune.search.optuna import OptunaSearch

        from search.sampling.space import split_space
        from search.tune.optuna_search import make_sampler
        from search.tune.tuner import make_scheduler

        spec = _spec(table, setting, {})
        metric, mode = spec.objective.metric, spec.objective.mode
        distributions, _ = split_space(spec.space)
        searcher = OptunaSearch(space=distributions, metric=metric, mode=mode,
                                sampler=make_sampler(sampler, setting.seed, setting.trials))
        trials: dict[str, ReplayTrial] = {}
        draw = setting.draw(table)

        def pick() -> Pick | None:
            best = best_result(trials.values(), metric, mode, scope)
            if best is None:
                return None
            return (best.curve if draw is None else draw.retrained(best.curve)), None

        budget = Budget(thresholds, pick)
        replay = TuneReplay(table, searcher, make_scheduler(spec), None, setting.trials,
                            setting.concurrency, metric, mode, budget, draw)
        replay.trials = trials
        np.random.seed(setting.seed)
        replay.run()
        anytime = budget.close()
        stopped = [(t.curve, _ray_kind(t), t.last_step) for t in trials.values()
                   if not t.results or not t.results[-1].get("is_final")]
        return Replayed(name, anytime[-1], budget.steps, replay.clock.now, anytime, stopped,
                        [t.config for t in trials.values()])

    return run


def _ray_kind(trial: ReplayTrial) -> str:
    from trainables.contract import OUTCOME

    return trial.results[-1].get(OUTCOME, "asha") if trial.results else "asha"


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def optuna_pruned(pruner: str, sampler: str = "tpe") -> Callable[..., Replayed]:
    """Optuna on its own with ``pruner`` ("sha": HF's hyperparameter_search, "hyperband", or
    "none") and ``sampler`` ("tpe" or "gp")."""

    def run(table: CurveTable, setting: Setting, thresholds: list[float], name: str
            ) -> Replayed:
        spec = _spec(table, setting, {})
        return optuna_replay(table, spec, setting, pruner, thresholds, name, sampler)

    return run


def one_epoch(table: CurveTable, setting: Setting, thresholds: list[float], name: str
              ) -> Replayed:
    return one_epoch_replay(table, _spec(table, setting, {}), setting, thresholds, name)


FIFO = {"type": "fifo"}
METHODS: dict[str, Callable[..., Replayed]] = {
    "random": basin_sweep({"search": {"sampler": "random"}, "scheduler": FIFO,
                           "stopping": NO_RULES, "selection": {"criterion": "objective"}}),
    "random+asha": ray_tune("random"),
    "tpe": basin_sweep({"scheduler": FIFO, "stopping": NO_RULES,
                        "selection": {"criterion": "objective"}}),
    "ray": ray_tune("tpe"),
    "ray-all": ray_tune("tpe", scope="all"),
    "hf": optuna_pruned("sha"),
    "hyperband": optuna_pruned("hyperband"),
    "gp": optuna_pruned("none", sampler="gp"),
    "one-epoch": one_epoch,
    "basin": basin_sweep({}),
}
# Diagnostics, to say which of basin's parts wins or loses where (not methods users run).
VARIANTS: dict[str, Callable[..., Replayed]] = {
    "basin-no-asha": basin_sweep({"scheduler": FIFO}),
    "basin-no-rules": basin_sweep({"stopping": NO_RULES}),
    # Issue 48's point 3: the one-standard-error choice, and basin confirm of the top K with S
    # new seeds within a quarter of the sweep's steps, against the objective's (the default).
    "basin-one-se": basin_sweep({"selection": {"criterion": "one-se"}}),
    "basin-confirm-2x2": basin_sweep({}, confirm=(2, 2)),
    "basin-confirm-3x1": basin_sweep({}, confirm=(3, 1)),
    "basin-confirm-5x1": basin_sweep({}, confirm=(5, 1)),
    # Section 1's rungs on classification: the first a quarter of the budget, the best third on.
    "basin-asha-quarter": basin_sweep(lambda table, setting: {"scheduler": {
        "type": "asha", "grace_period": table.spec.training.max_steps // 4,
        "reduction_factor": 3}}),
}


def _freezing(thaw: str = "rank", quarter: bool = False, budget: float | None = None,
              factor: float | None = None) -> Callable[..., Replayed]:
    """basin as shipped with the freezing scheduler (issue 30's variants): thaw order, the first
    rung at a quarter of the budget (else the sweep file's), a step budget as a share of random
    search's full budget, the reduction factor (else the sweep file's)."""

    def overrides(table: CurveTable, setting: Setting) -> dict[str, Any]:
        steps = table.spec.training.max_steps
        scheduler: dict[str, Any] = {"type": "freeze", "thaw": thaw}
        if quarter:
            scheduler["grace_period"] = steps // 4
        if factor:
            scheduler["reduction_factor"] = factor
        search = {"max_total_steps": int(budget * setting.trials * steps)} if budget else {}
        return {"scheduler": scheduler, "search": search}

    return basin_sweep(overrides)


FREEZING: dict[str, Callable[..., Replayed]] = {
    "freeze": _freezing(),
    "freeze-half": _freezing(budget=0.5),
    "freeze-undecided-half": _freezing("undecided", budget=0.5),
    "freeze-quarter-half": _freezing(quarter=True, budget=0.5),
    "freeze-quarter-undecided-half": _freezing("undecided", quarter=True, budget=0.5),
    # Second round (RESULTS.md, "Issue 30, second round"): the first rung at a quarter and the
    # best third on (exploration ~44% of random search's steps, not 50%). The forecast and the
    # searcher's-model thaw orders it and the third round measured were worse than rank and
    # are gone from basin (their rows in RESULTS.md are the record).
    "freeze-third-half": _freezing(quarter=True, budget=0.5, factor=3),
    "freeze-third-undecided-half": _freezing("undecided", quarter=True, budget=0.5, factor=3),
}
VARIANTS.update(FREEZING)
