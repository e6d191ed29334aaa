"""``basin check``: beyond the leaderboard, how flat each top candidate's basin is and (where
``basin confirm`` ran) how stable it is over seeds. (How much of the base model a candidate
kept, its ``drift``, every trial measures at every evaluation: the sweep file's ``retention``.)

The top K candidates by objective are measured from their checkpoints
(``trainables/check/candidate.py``), one after the other in this process, on its GPU when it has
one. The figures go to check.json; from there into results.json, the leaderboard
(``basin best``), each checked trial's W&B summary, the ``check`` plot and the ``robust``
selection criterion. ``check: {top: K}`` in a sweep file runs it when the sweep ends. Measured
(benchmarks/RESULTS.md, "Beyond the leaderboard: does `basin check` help choose?"), the basin
radius ranked candidates no better than chance: the shipped sweeps leave it off.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Callable

from pydantic import ValidationError

from search.core.console import say
from search.core.errors import SpecError
from search.core.record import TrialRecord
from search.selection.base import by_objective
from search.selection.candidates import CHECK_FIGURES, gather
from search.spec.model import trial_settings
from search.store.reading import RunReading
from search.store.rundir import RunDir
from trainables.check.settings import FLAGS, CheckSettings
from trainables.contract import STEP, VAL_LOSS


@dataclass
class CheckReport:
    """What a check measured: one entry per candidate (trial, step, its objective and
    figures), the settings, and how long it took."""

    settings: CheckSettings
    entries: list[dict[str, Any]]
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {"settings": self.settings.model_dump(mode="json"), "seconds": self.seconds,
                "candidates": self.entries}


def check_settings(run: RunDir, **flags: Any) -> CheckSettings:
    """The sweep file's ``check`` block (or the defaults) with the given flags applied; a bad
    value is named by its flag."""
    base = run.spec.check or CheckSettings()
    given = {name: value for name, value in flags.items() if value is not None}
    try:
        return CheckSettings.model_validate(base.model_dump() | given)
    except ValidationError as error:
        raise SpecError([f"{FLAGS.get(str(e['loc'][0]), e['loc'][0]) if e['loc'] else 'check'}"
                         f": {e['msg'].removeprefix('Value error, ')}"
                         + (f" (got {e['input']!r})" if "got" not in e["msg"] else "")
                         for e in error.errors()]) from None


def run_check(reading: RunReading, settings: CheckSettings,
              progress: Callable[[str], None] = lambda line: None) -> CheckReport:
    """Measure the top ``settings.top`` candidates by objective; write check.json, which the
    reading's next choice takes into account."""
    from transformers.utils import logging as hf_logging

    from trainables.check.candidate import check_checkpoint
    from trainables.settings import Hyperparameters

    hf_logging.set_verbosity_error()  # a classifier base's fresh head is expected
    hf_logging.disable_progress_bar()
    run = reading.run
    spec = run.spec
    pool = gather(reading.records, spec.objective.metric, spec.objective.mode)
    top = by_objective(pool.candidates)[:settings.top]
    if not top:
        raise SpecError([f"{run.shown}: no candidate checkpoint to check (no trial has saved "
                         "one)"])
    progress(f"check: the top {len(top)} candidates, each loaded from its checkpoint and "
             f"measured (flatness); a line as each ends (off: check.enabled: false)")
    trial = trial_settings(spec)
    spreads = reading.spreads
    started, entries = time.perf_counter(), []
    for number, candidate in enumerate(top, start=1):
        folder = run.fetch(candidate.checkpoint)
        if not folder.is_dir():
            raise SpecError([f"{run.shown}: {candidate.name}: its checkpoint is gone "
                             f"({candidate.checkpoint})"])
        try:
            figures = check_checkpoint(Hyperparameters(**candidate.params), trial, folder,
                                       settings)
        except OSError as error:  # the base model's files, or the checkpoint's, are gone
            raise SpecError([f"{run.shown}: model.name {spec.model.name!r}: cannot load the "
                             f"base model or {candidate.name}'s adapter ({error})"]) from None
        entry = {"trial_id": candidate.trial_id, STEP: candidate.step,
                 "params": candidate.params, "objective": candidate.objective, **figures,
                 "seed_sd": spreads.get((candidate.trial_id, candidate.step))}
        entries.append(entry)
        progress(f"check {number}/{len(top)}: {candidate.name}: basin radius "
                 f"{entry['basin_radius']:.3g} "
                 f"({figures['seconds']:.1f} s)")
    report = CheckReport(settings, entries, time.perf_counter() - started)
    run.check_file.write_text(json.dumps(report.as_dict(), indent=2))
    reading.results_written()
    return report


def print_check(report: CheckReport, run: RunDir, console: Any,
                sweep_seconds: float | None = None) -> None:
    """The check table (best objective first) and what the check cost."""
    from search.report.fitting import Column, print_fitted
    from search.report.leaderboard import cell

    spec, settings = run.spec, report.settings
    metric = spec.objective.metric
    radii = list(report.entries[0]["increase"]) if report.entries else []
    title = (f"{spec.name}: basin check of the top {len(report.entries)} candidates "
             f"({settings.directions} directions, tolerance {settings.tolerance:.0%} of the loss)")
    headers = ["trial", STEP, metric, "check loss", *[f"+loss @{r}" for r in radii], "radius",
               "seed sd"]
    rows = []
    for entry in report.entries:
        radius = f"{entry['basin_radius']:.3g}"
        if entry["basin_radius"] >= settings.max_radius:
            radius = f">={radius}"
        rows.append([entry["trial_id"], str(entry[STEP]), cell(entry["objective"]),
                     cell(entry[VAL_LOSS]), *[cell(entry["increase"][r]) for r in radii],
                     radius, cell(entry.get("seed_sd"))])
    print_fitted(console, [Column(h, "left" if h == "trial" else "right") for h in headers],
                 rows, title)
    cost = f"check: {len(report.entries)} candidates in {report.seconds:.1f} s"
    if sweep_seconds:
        cost += f", {report.seconds / sweep_seconds:.1%} of the sweep's {sweep_seconds:.0f} s"
    # Prose wrapped at words by basin (say), never cut mid-word by the terminal.
    say(console, f"[dim]radius: how far (x each layer's fine-tuning update) the weights can "
                 f"move along random directions before the loss rises "
                 f"{settings.tolerance:.0%}; seed sd: basin confirm's spread over seeds[/dim]")
    say(console, cost)


def track_check(report: CheckReport, records: list[TrialRecord], trackers: list[Any]) -> None:
    """Each checked trial's figures into its tracker runs (W&B: the trial's summary)."""
    by_trial: dict[str, dict[str, Any]] = {}
    for entry in report.entries:
        by_trial.setdefault(entry["trial_id"], {})[f"step_{entry['step']}"] = {
            name: entry[name] for name in (*CHECK_FIGURES, VAL_LOSS, "increase")}
    for record in records:
        if record.trial_id in by_trial:
            last = record.evaluations[-1] if record.evaluations else {}
            for tracker in trackers:
                tracker.trial_checked(record.trial_id, record.params, record.outcome, last,
                                      by_trial[record.trial_id])
