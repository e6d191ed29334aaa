"""A sweep's life in one place: start it, run its trials, resume it, finish it.

``start`` refuses what cannot run (stores out of reach, trials no node can hold) before any
trial starts and creates the run directory; ``run`` and ``resume`` drive Ray Tune (through
``search/tune/tuner.py``); ``finish`` reads the trials back, makes the choice and writes what the
sweep hands on: results.json, best.yaml, the plots, the trackers' summaries, the uploads.
The command line (``search/cli/main.py``) only parses arguments and prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from search.core.driver_log import DriverLog
from search.core.errors import SpecError
from search.core.outcome import FINISHED
from search.core.record import TrialRecord
from search.lifecycle.preflight import preflight
from search.lifecycle.tracking import make_trackers
from search.report.results import choice_of, leaderboard_rows, write_results
from search.selection.choice import Choice
from search.spec.model import SweepSpec, load_spec
from search.store.freeze_ledger import FreezeLedger
from search.store.keeping import Kept, keep_what_counts
from search.store.object_store import LocationError
from search.store.records import collect_records, tell_faults
from search.store.rundir import RunDir
from search.store.stop_ledger import StopLedger
from search.trackers.base import SweepSummary, Tracker

if TYPE_CHECKING:
    from ray.tune.schedulers import TrialScheduler

    from search.lifecycle.check import CheckReport
    from search.tune.optuna_search import HonestOptunaSearch, StudyRef
    from search.tune.stopper import RuleStopper


def check_stores(spec: SweepSpec, source: str) -> None:
    """Refuse a study database or an object store that cannot be reached, before Ray or any
    trial starts."""
    from search.core import uris
    from search.store import object_store as store
    from search.store.study import check_reachable

    problem = check_reachable(spec.search.storage)
    if problem:
        raise SpecError([f"{source}: search.storage: {problem}"])
    if uris.is_object_store(spec.output_dir):
        try:
            store.check_reachable(spec.output_dir)
        except store.LocationError as error:
            raise SpecError([f"{source}: output_dir: cannot reach it: {error}"]) from error


def connect(spec: SweepSpec, address: str | None, source: str) -> None:
    """Connect to (or start) Ray and refuse trials that no node of it could ever hold."""
    from search.tune.cluster import check_feasible, join

    join(address)
    check_feasible(spec, source)


def start(spec: SweepSpec, source: str, address: str | None = None) -> RunDir:
    """Everything before the first trial: what the sweep points at checked (data, model,
    output_dir, stores), Ray up, the run directory made."""
    preflight(spec, source, address)  # converts a built-in model that needs it, once
    check_stores(spec, source)
    connect(spec, address, source)
    return RunDir.create(spec)


def study_ref(spec: SweepSpec, name: str, folder: Path, in_memory: bool = False) -> StudyRef:
    """How the sweep's Optuna study is opened: named ``name`` (a run directory's name, unique
    even in a database several sweeps share), kept in ``folder`` or in the sweep's database,
    or in memory (replays of learning-curve tables)."""
    from search.tune.optuna_search import StudyRef

    return StudyRef(
        name=name, run_dir=folder, storage_url=spec.search.storage,
        sampler=spec.search.sampler, seed=spec.search.seed, num_trials=spec.search.num_trials,
        direction="minimize" if spec.objective.mode == "min" else "maximize",
        # search.multi_objective: the drift, less is more retentive.
        second_direction="minimize" if spec.search.multi_objective else None,
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
        scheduler=make_scheduler(spec, freezes, ledger, rate=searcher.rate),
        stopper=RuleStopper(rules, ledger, metric, mode) if rules else None)


def run(spec: SweepSpec, run_dir: RunDir, quiet: bool = False, function: Any = None,
        log: DriverLog | None = None) -> list[Tracker]:
    """Run every trial of the sweep; returns its trackers (for ``finish``). ``log``: where
    the libraries' output goes meanwhile.

    ``function`` is the Tune function each trial runs; benchmarks swap in a trivial one to
    measure what basin adds around a trial.
    """
    from search.tune.candidate_keeper import CandidateKeeper
    from search.tune.cluster import start_ray
    from search.tune.progress import ProgressPrinter
    from search.tune.tracker_callback import TrackerCallback
    from search.tune.tuner import build_tuner, fit, make_trainable
    from search.tune.uploader import RunDirUploader
    from trainables.trial.entry import run_trial

    start_ray()
    ledger = StopLedger(run_dir.stops_file)
    trackers = make_trackers(spec, run_dir, quiet)
    metric, mode = spec.objective.metric, spec.objective.mode
    freezes = FreezeLedger(run_dir.freezes_file)
    decided_by = decisions(spec, study_ref(spec, run_dir.path.name, run_dir.path), ledger,
                           freezes)
    progress = ProgressPrinter(metric, spec.search.num_trials, ledger, quiet=quiet, mode=mode,
                               freezes=freezes if spec.scheduler.type == "freeze" else None,
                               after=f"then check {spec.check.top}" if spec.check else None)
    callbacks = [progress, TrackerCallback(
        trackers, ledger, freezes=freezes if spec.scheduler.type == "freeze" else None),
        CandidateKeeper(run_dir, spec)]
    if run_dir.remote:
        callbacks.append(RunDirUploader(run_dir))
    tuner = build_tuner(
        spec, run_dir, name=run_dir.path.name,
        trainable=make_trainable(spec, function=function or run_trial),
        num_samples=spec.search.num_trials, search_alg=decided_by.searcher,
        scheduler=decided_by.scheduler, stopper=decided_by.stopper, callbacks=callbacks)
    try:
        fit(tuner, run_dir, log)
    finally:
        progress.close()
    return trackers


def reopen(where: str, sweep_file: str | None = None) -> RunDir:
    """A run directory that can be resumed: it ran ``sweep_file`` (when given), has not
    finished, and Ray saved its state."""
    from ray import tune

    run_dir = RunDir.open(where)
    if sweep_file is not None:
        _check_same_sweep(load_spec(sweep_file), run_dir.spec, sweep_file, run_dir.shown)
    if run_dir.finished:
        raise SpecError([f"{run_dir.shown}: this sweep has finished; nothing to resume"])
    if not tune.Tuner.can_restore(run_dir.location):
        raise SpecError([f"{run_dir.shown}: nothing to resume (Ray never saved this sweep's "
                         "state)"])
    return run_dir


def _check_same_sweep(given: SweepSpec, recorded: SweepSpec, given_path: str,
                      run_dir: str) -> None:
    """Refuse to resume a run directory with a different sweep than the one it ran."""
    ignore = {"output_dir"}
    if given.model_dump(exclude=ignore) != recorded.model_dump(exclude=ignore):
        changed = [key for key in type(given).model_fields if key not in ignore
                   and getattr(given, key) != getattr(recorded, key)]
        raise SpecError([f"{given_path}: {run_dir} belongs to a different sweep "
                         f"({recorded.name!r}; differs in: {', '.join(changed)})"])


def dashboard_command(run_dir: RunDir) -> str:
    """The optuna-dashboard command that opens this sweep's study (its journal file as it is,
    or the shared database)."""
    from search.core.layout import JOURNAL_FILE

    storage = run_dir.spec.search.storage or str(run_dir.path / JOURNAL_FILE)
    return f"optuna-dashboard {storage}"


def repair_study(run_dir: RunDir) -> str | None:
    """Before anything appends to the study's journal: move a torn or unreadable tail aside
    (what a driver killed mid-write leaves); says what it moved, or None."""
    from search.core.layout import JOURNAL_FILE
    from search.store.journal import repair_journal

    if run_dir.spec.search.storage:
        return None
    damage = repair_journal(run_dir.path / JOURNAL_FILE)
    return damage.describe() if damage else None


def resume(run_dir: RunDir, quiet: bool = False, log: DriverLog | None = None
           ) -> list[Tracker]:
    """Continue a sweep whose driver stopped: finished trials stay, unfinished ones continue
    from their latest checkpoint, new ones fill the sweep up to its number of trials. Ray
    restores the searcher, the stopper and the callbacks it pickled with its state."""
    from ray import tune

    from search.tune.cluster import start_ray
    from search.tune.tuner import fit, make_trainable

    spec = run_dir.spec
    start_ray()
    # A trial Ray ended on a fault of the machine (a full disk, a lost node; its retries
    # spent) continues from its latest checkpoint: the fault is not the configuration's. A
    # trial whose configuration failed ended normally, with its outcome, and is not retried.
    tuner = tune.Tuner.restore(run_dir.location, trainable=make_trainable(spec),
                               resume_unfinished=True, resume_errored=True,
                               restart_errored=False)
    fit(tuner, run_dir, log)
    return make_trackers(spec, run_dir, quiet)


@dataclass
class Finished:
    """What ``finish`` found: every trial, the choice, and what was written."""

    records: list[TrialRecord]
    choice: Choice
    ended: int
    requested: int
    plots: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    check: CheckReport | None = None
    kept: Kept | None = None

    @property
    def interrupted(self) -> bool:
        return self.ended < self.requested


def sync(run_dir: RunDir, download: bool = False) -> None:
    """Upload what the driver wrote to an object-store run directory and, with ``download``,
    then refresh its mirror with what Ray uploaded (both no-ops for a path)."""
    try:
        run_dir.push()  # first: a file pushed here is not downloaded back
        if download:
            run_dir.pull()
    except LocationError as error:
        raise SpecError([f"{run_dir.shown}: {error}"]) from error


def finish(run_dir: RunDir, trackers: list[Tracker],
           progress: Callable[[str], None] = lambda line: None) -> Finished:
    """After the trials: read them back and choose; a sweep whose trials all ended runs
    ``basin check`` when its file asks for it (``progress`` hears of each candidate), writes
    results.json, best.yaml and the plots, tells its trackers and uploads; an interrupted
    one writes nothing (``basin resume`` continues it)."""
    from search.lifecycle.check import run_check, track_check
    from search.report.plots.sweep import write_plots

    spec = run_dir.spec
    sync(run_dir, download=True)  # an object-store run: the trials' folders, as Ray left them
    records = collect_records(run_dir)
    ended = sum(r.outcome.status in FINISHED for r in records)
    if ended < spec.search.num_trials:  # interrupted: nothing deleted, nothing told
        return Finished(records, choice_of(run_dir, records), ended, spec.search.num_trials)
    tell_faults(run_dir, records)
    kept = keep_what_counts(run_dir, records)
    records = collect_records(run_dir)  # the candidates left
    choice = choice_of(run_dir, records)
    done = Finished(records, choice, ended, spec.search.num_trials, kept=kept)
    if spec.check is not None:
        done.check = run_check(run_dir, records, spec.check, progress)
        done.choice = choice = choice_of(run_dir, records)  # robust needs the figures
        track_check(done.check, records, trackers)
    write_results(run_dir, records, choice)
    done.plots = write_plots(run_dir, records, choice)
    columns, rows = leaderboard_rows(records, choice, spec)
    summary = SweepSummary(columns, rows, choice.chosen.as_dict() if choice.chosen else None,
                           choice.why, done.plots)
    for tracker in trackers:
        tracker.sweep_ended(summary)
        if note := tracker.closing_note():
            done.notes.append(note)
    sync(run_dir)
    return done
