"""What decides a sweep's trials, built from its file: the searcher (Optuna, and what it is
told of each trial), the scheduler (ASHA's rungs, or the freezing scheduler) and the stopper
(the sweep's stopping rules). Ray Tune runs them in a sweep; the replay benchmark runs the same
objects over learning-curve tables."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from search.spec.model import SweepSpec
from search.store.freeze_ledger import FreezeLedger
from search.store.stop_ledger import StopLedger

if TYPE_CHECKING:
    from ray.tune.schedulers import TrialScheduler

    from search.tune.optuna_search import HonestOptunaSearch, StudyRef
    from search.tune.stopper import RuleStopper


def study_ref(spec: SweepSpec, name: str, folder: Path, in_memory: bool = False) -> StudyRef:
    """How the sweep's Optuna study is opened: named ``name`` (a run directory's name, unique
    even in a database several sweeps share), kept in ``folder`` or in the sweep's database,
    or in memory (replays of learning-curve tables)."""
    from search.tune.optuna_search import StudyRef

    return StudyRef(
        name=name, run_dir=folder, storage_url=spec.search.storage,
        sampler=spec.search.sampler, seed=spec.search.seed, num_trials=spec.search.num_trials,
        direction="minimize" if spec.objective.mode == "min" else "maximize",
        in_memory=in_memory)


@dataclass
class Decisions:
    """What decides a sweep's trials: the searcher (which configuration next, and what Optuna
    hears of each trial), the scheduler (ASHA's rungs) and the stopper (the sweep's stopping
    rules; None when it has none). Ray Tune runs them in a sweep; the replay benchmark runs the
    same objects over learning-curve tables."""

    searcher: HonestOptunaSearch
    scheduler: TrialScheduler
    stopper: RuleStopper | None


def decisions(spec: SweepSpec, study: StudyRef, ledger: StopLedger,
              freezes: FreezeLedger | None = None) -> Decisions:
    """The searcher, scheduler and stopper of a sweep, built from its file (``freezes``: the
    freeze ledger a freezing scheduler and the searcher share)."""
    from search.sampling.space import split_space
    from search.tune.optuna_search import HonestOptunaSearch
    from search.tune.stopper import RuleStopper
    from search.tune.tuner import make_scheduler

    distributions, constants = split_space(spec.space)
    metric, mode = spec.objective.metric, spec.objective.mode
    rules = spec.stopping.rules()
    freezing = spec.scheduler.type == "freeze"
    freezes = (freezes or FreezeLedger()) if freezing else None
    searcher = HonestOptunaSearch(study, distributions, constants, ledger, metric, mode,
                                  freezes=freezes)
    return Decisions(
        searcher=searcher,
        scheduler=make_scheduler(spec, freezes, ledger),
        stopper=RuleStopper(rules, ledger, metric, mode) if rules else None)
