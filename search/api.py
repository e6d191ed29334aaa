"""basin from Python: start a sweep, read one back, re-train a recipe, export a checkpoint.

Each function runs the same lifecycle code as its command (``basin run``, ``status``/``best``,
``train``, ``export``) without printing tables: what the command prints, the returned objects
hold. Mistakes raise ``SpecError`` with the command's one-line messages (``error.problems``).
``basin`` (the package) re-exports these names::

    import basin

    sweep = basin.run("sweeps/tiny.yaml", ["search.num_trials=4"])
    print(sweep.state, sweep.chosen.trial_id, sweep.chosen.step, sweep.chosen.objective)
    sweep.trials()           # one row per trial (pandas)
    basin.export(sweep.location, "bundle")
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from search.core.errors import SpecError

if TYPE_CHECKING:
    import pandas

    from search.core.record import TrialRecord
    from search.selection.candidates import Candidate
    from search.selection.choice import Choice
    from search.spec.model import SweepSpec

# A sweep file's path, its settings as a mapping (what the YAML would hold; relative paths are
# taken from the current folder), or a validated SweepSpec.
SweepSource = Union[str, Path, dict, "SweepSpec"]


@dataclass
class Sweep:
    """A sweep's run directory as objects: its settings, every trial, and the choice."""

    location: str  # the run directory (a path, or an object-store URI)
    path: Path  # where its files are on this machine (the mirror, for an object store)
    spec: SweepSpec
    state: str  # finished, running, interrupted (or, in an object store, not running here)
    records: list[TrialRecord]
    choice: Choice

    @property
    def chosen(self) -> Candidate | None:
        """The checkpoint the sweep hands on (None while no trial has a candidate)."""
        return self.choice.chosen

    @property
    def best_file(self) -> Path | None:
        """best.yaml, the chosen recipe (``basin.train`` re-trains it), once written."""
        best = self.path / "best.yaml"
        return best if best.is_file() else None

    def trials(self) -> pandas.DataFrame:
        """One row per trial: its id, state, hyperparameters, last evaluated step, and its
        best-ranked checkpoint's step and objective (empty where it has none)."""
        import pandas

        rows = []
        for record in self.records:
            best = self.choice.best_of(record.trial_id)
            rows.append({"trial_id": record.trial_id, "state": record.state, **record.params,
                         "last_step": record.last_step,
                         "best_step": best.step if best else None,
                         self.spec.objective.metric: best.objective if best else None})
        return pandas.DataFrame(rows)

    def evaluations(self) -> pandas.DataFrame:
        """Every evaluation of every trial, oldest first within a trial: one row each, with
        the trial's id and every figure it reported."""
        import pandas

        return pandas.DataFrame([{"trial_id": record.trial_id, **evaluation}
                                 for record in self.records
                                 for evaluation in record.evaluations])


def load_sweep_spec(sweep: SweepSource, overrides: list[str] | None = None
                    ) -> tuple[SweepSpec, str]:
    """The validated settings and the name messages give their source."""
    from search.spec.model import SweepSpec, load_spec, validate_spec
    from search.spec.overrides import apply_override

    if isinstance(sweep, SweepSpec):
        sweep = sweep.model_dump(mode="json")
    if isinstance(sweep, dict):
        raw = copy.deepcopy(sweep)
        for assignment in overrides or []:
            apply_override(raw, assignment)
        return validate_spec(raw, "<sweep>", overrides), "<sweep>"
    if not isinstance(sweep, (str, Path)):
        raise SpecError([f"sweep: expected a sweep file's path, a mapping or a SweepSpec (got "
                         f"{type(sweep).__name__})"])
    return load_spec(sweep, overrides), str(sweep)


def run(sweep: SweepSource, overrides: list[str] | None = None, *,
        address: str | None = None, quiet: bool = True) -> Sweep:
    """Run a sweep to its end, as ``basin run`` does, and return it. ``overrides``: ``--set``
    assignments (``["search.num_trials=8"]``); ``address``: a Ray cluster's (default: the one
    ``RAY_ADDRESS`` names, or a new local one); ``quiet``: no progress table. A sweep that
    stops early (Ctrl-C) comes back with ``state`` "interrupted"; ``basin resume`` continues it.
    """
    from search.core.driver_log import DriverLog
    from search.lifecycle.finish import finish_sweep
    from search.lifecycle.run import run_trials
    from search.lifecycle.start import start
    from search.store.driver_lock import DriverLock

    spec, source = load_sweep_spec(sweep, overrides)
    with DriverLog() as log:
        run_dir = start(spec, source, address)
        with DriverLock(run_dir.path, run_dir.shown) as lock:
            lock.acquire("run")
            log.write_to(run_dir.path)
            trackers = run_trials(spec, run_dir, quiet=quiet, log=log)
            done = finish_sweep(run_dir, trackers)
    return Sweep(run_dir.location, run_dir.path, spec,
                 "interrupted" if done.interrupted else "finished", done.records, done.choice)


def load(where: str | Path) -> Sweep:
    """A sweep's run directory read back, finished or not (``basin status`` and ``best``)."""
    from search.report.status import sweep_state
    from search.store.reading import read_run

    reading = read_run(where)
    run_dir = reading.run
    return Sweep(run_dir.location, run_dir.path, run_dir.spec, sweep_state(run_dir)[0],
                 reading.records, reading.choice())


def train(recipe: SweepSource, overrides: list[str] | None = None,
          out: str | Path | None = None) -> dict[str, Any]:
    """Train one recipe (a best.yaml, or any sweep file whose space is one point) in this
    process, as ``basin train`` does; every evaluation's checkpoint goes to ``out``/candidates.
    Returns the last report (``best_step``, the best objective, the last figures)."""
    from search.core.driver_log import DriverLog
    from search.lifecycle.foreground import settle_library_output, train_here

    spec, source = load_sweep_spec(recipe, overrides)
    settle_library_output()
    with DriverLog() as log:
        return train_here(spec, source, Path(out) if out is not None else None,
                          say=lambda line: None, log=log)


class ExportRefused(SpecError):
    """The bundle was written but does not reproduce its trial's probe (``basin export``
    exits 1 there); ``summary`` holds what was measured."""

    def __init__(self, message: str, summary: dict) -> None:
        super().__init__([message])
        self.summary = summary


def export(where: str | Path, out: str | Path, *, trial: str | None = None,
           step: int | None = None, merge: bool = False, verify: bool = True,
           base: str = "hub", verbose: bool = False) -> dict:
    """Export the sweep's chosen checkpoint (or ``trial`` at ``step``) to ``out`` as a bundle
    that loads without basin, as ``basin export`` does; returns its metrics.json summary.
    Raises ``ExportRefused`` when the bundle does not reproduce the trial's probe. ``verbose``:
    the libraries' output on the terminal too (otherwise only in the run's driver.log)."""
    from search.core.driver_log import DriverLog
    from search.report.export.bundle import export_bundle
    from search.report.export.verify import refusal
    from search.store.rundir import RunDir

    if step is not None and step < 1:
        raise SpecError([f"step: must be a positive step (got {step})"])
    run_dir = RunDir.open(where)
    with DriverLog(verbose) as log:  # loading models: transformers' and DeepSpeed's noise
        log.write_to(run_dir.path)
        with log.prints():
            summary = export_bundle(run_dir, Path(out), trial, merge, verify, step=step,
                                    base=base)
    if verify and not summary.get("verified", True):
        raise ExportRefused(refusal(summary, str(out)), summary)
    return summary
