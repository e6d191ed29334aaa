"""What a sweep hands on, as a user reads it: the choice said, the leaderboard, results.json and
the recipe of the chosen checkpoint (best.yaml, an export's config.yaml). The choice itself is
made from one reading of the run (``search/store/reading.py``)."""

from __future__ import annotations

import json

from rich.console import Console
from rich.markup import escape

from search.core.console import say
from search.core.layout import VERSIONS_FILE
from search.core.outcome import RUNNING
from search.core.record import TrialRecord
from search.report.leaderboard import SHORT_NAMES, print_leaderboard, reasons
from search.sampling.space import ConstantParam
from search.selection.candidates import Candidate
from search.selection.choice import Choice
from search.selection.front import front
from search.selection.last_step import LastStepCriterion
from search.selection.noise import closeness
from search.spec.model import SweepSpec, dump_spec, trial_settings
from search.spec.reproduce import Reproduce
from search.spec.sanity import split_sizes
from search.stopping import StoppingSpec
from search.store.reading import RunReading
from search.store.rundir import RunDir
from trainables.contract import BEST_STEP, DRIFT, GAP, STEP, TRAIN_EVAL_LOSS, VAL_LOSS
from trainables.fingerprint import recipe_hash
from trainables.settings import Hyperparameters
from trainables.tasks import declared

AT_STEP_METRICS = (VAL_LOSS, TRAIN_EVAL_LOSS, GAP)
# Figures a candidate carries beyond its trial's report row, as leaderboard columns shown once
# some candidate has them: its drift (the sweep file's retention), basin check's figures
# (search/lifecycle/check.py).
CANDIDATE_COLUMNS = {DRIFT: "drift", "basin_radius": "radius", "seed_sd": "seed sd"}


def ordered(records: list[TrialRecord], choice: Choice) -> list[TrialRecord]:
    """Trials in the order of their best-ranked candidate; trials without one after them
    (running ones first, then those left out)."""
    position = {trial_id: index for index, trial_id in enumerate(choice.trial_order())}
    return sorted(records, key=lambda r: (r.trial_id not in position,
                                          position.get(r.trial_id, 0),
                                          r.outcome.status != RUNNING, r.trial_id))


def _shown_params(spec: SweepSpec) -> list[str]:
    searched = [name for name, p in spec.space.items() if not isinstance(p, ConstantParam)]
    return searched or list(spec.space)  # a fixed-value sweep (best.yaml) shows its values


def trial_state(record: TrialRecord, in_flight: str = RUNNING) -> str:
    """The trial's state as tables say it, a trial that has not ended said ``in_flight``
    (running, or unfinished when no driver runs the sweep)."""
    return in_flight if record.state == RUNNING else record.state


def leaderboard_rows(records: list[TrialRecord], choice: Choice, spec: SweepSpec,
                     in_flight: str = RUNNING) -> tuple[list[str], list[list]]:
    """(column names, one row of raw values per trial): the leaderboard as data. Each trial's
    values are those of its best-ranked candidate step ("at step"). A trial that has not ended
    is said ``in_flight``: running, or "unfinished" when no driver runs the sweep."""
    shown = _shown_params(spec)
    metric = spec.objective.metric
    checked = [name for name in CANDIDATE_COLUMNS
               if any(getattr(c, name) is not None for c in choice.ranked)]
    at_step = [m for m in AT_STEP_METRICS if m != metric] + _task_figures(records, spec)
    columns = ["trial", *[SHORT_NAMES.get(n, n) for n in shown], STEP, metric, *at_step,
               *[CANDIDATE_COLUMNS[name] for name in checked], "last step", "status"]
    rows = []
    for record in ordered(records, choice):
        best = choice.best_of(record.trial_id)
        at = next((row for row in record.evaluations if best and row[STEP] == best.step), {})
        rows.append([record.trial_id, *[record.params.get(name) for name in shown],
                     best.step if best else None, best.objective if best else None,
                     *[at.get(m) for m in at_step],
                     *[getattr(best, name) if best else None for name in checked],
                     record.last_step, trial_state(record, in_flight)])
    return columns, rows


def _task_figures(records: list[TrialRecord], spec: SweepSpec) -> list[str]:
    """The task's own validation figures (accuracy, exact match) that some trial reported."""
    return [m for m in declared(spec.model.task).leaderboard if m != spec.objective.metric
            and any(m in row for record in records for row in record.evaluations)]


def leaderboard(records: list[TrialRecord], choice: Choice, spec: SweepSpec, console: Console,
                top: int | None = None, title: str | None = None,
                in_flight: str = RUNNING) -> None:
    """Print one row per trial, the chosen checkpoint's trial first, then why trials ended
    (a trial that has not ended is said ``in_flight``)."""
    columns, rows = leaderboard_rows(records, choice, spec, in_flight)  # in ordered() order
    trials = ordered(records, choice)
    print_leaderboard(columns, rows[:top] if top else rows, console,
                      title or f"{spec.name}: {spec.objective.metric} ({spec.objective.mode}), "
                               f"selection {choice_name(spec)}",
                      reasons(trials[:top] if top else trials, choice))


def choice_name(spec: SweepSpec) -> str:
    return spec.selection.criterion


def describe_choice(choice: Choice, run: RunDir) -> str:
    """Which checkpoint is handed on and why, in a line or two (rich markup escaped)."""
    if choice.chosen is None:
        return escape(f"chosen: nothing yet ({choice.why})")
    chosen = choice.chosen
    # The checkpoint's path on a line of its own: whole, it fits 80 columns and can be copied.
    return escape(f"chosen: {chosen.name} ({run.spec.objective.metric} {chosen.objective:.4f})"
                  f"\n  why: {choice.why}\n  checkpoint:\n  {chosen.checkpoint}")


def say_noise(console: Console, choice: Choice, records: list[TrialRecord], run: RunDir
              ) -> None:
    """How sure the choice is (``search/selection/noise.py``): its standard error, the other
    trials within it, and the ``basin confirm`` that would separate them, with its cost."""
    noise = closeness(choice, run.spec.objective.metric)
    if noise is None:
        return
    text, command = noise.said(run.location, sum(r.last_step or 0 for r in records))
    say(console, escape(text))
    if command:
        console.print(f"  {command}", soft_wrap=True)


def recipe(spec: SweepSpec, chosen: Candidate, versions: dict[str, str] | None = None
           ) -> SweepSpec:
    """A sweep file that re-trains exactly ``chosen``: its configuration and seed, stopped at
    its step with the sweep's learning-rate schedule (the budget is unchanged, so stopping
    early does not shorten the schedule), no stopping rules, and the last step handed on. Its
    ``reproduce`` block records the figure it must land on, the recipe's hash and the
    ``versions`` of the libraries the sweep ran with, for ``basin train`` to check."""
    fixed = spec.model_copy(deep=True)
    fixed.name = f"{spec.name}-best"
    fixed.space = {name: ConstantParam(type="constant", value=chosen.params[name])
                   for name in spec.space}
    fixed.training.stop_at_step = chosen.step
    fixed.search.num_trials = 1
    fixed.search.max_concurrent_trials = 1
    fixed.scheduler.type = "fifo"
    fixed.stopping = StoppingSpec.off()
    fixed.selection = LastStepCriterion()
    fixed.reproduce = Reproduce(
        step=chosen.step, metric=spec.objective.metric, value=chosen.objective,
        recipe_hash=recipe_hash(trial_settings(fixed), Hyperparameters(**chosen.params)),
        versions=versions or {})
    return fixed


def recorded_versions(run: RunDir) -> dict[str, str]:
    """The libraries the run's sweep started with (none where an earlier basin wrote the run)."""
    file = run.path / VERSIONS_FILE
    return json.loads(file.read_text()) if file.is_file() else {}


def recipe_text(spec: SweepSpec, chosen: Candidate, command_path: str, why: str,
                versions: dict[str, str] | None = None) -> str:
    """The recipe as a commented sweep file."""
    header = (f"# The chosen checkpoint of sweep {spec.name}: {chosen.name}.\n"
              f"# Why: {why}\n"
              f"# Re-train it (same configuration and seed, stopped at step {chosen.step} of a "
              f"{spec.training.max_steps or spec.training.epochs} "
              f"{'step' if spec.training.max_steps else 'epoch'} schedule):\n"
              f"#   basin run {command_path}\n"
              f"# or in this process, without Ray: basin train {command_path}\n"
              f"# (basin train says whether it lands on {spec.objective.metric} "
              f"{chosen.objective:.6f} at step {chosen.step}: the reproduce block)\n")
    return header + dump_spec(recipe(spec, chosen, versions))


def write_results(reading: RunReading) -> None:
    """Write results.json (every trial, the choice) and best.yaml (the chosen checkpoint's
    recipe, when there is one)."""
    run, records, choice = reading.run, reading.records, reading.choice()
    spec = run.spec
    columns, rows = leaderboard_rows(records, choice, spec)
    payload = {
        "sweep": spec.name,
        "objective": {"metric": spec.objective.metric, "mode": spec.objective.mode},
        "selection": spec.selection.model_dump(mode="json"),
        "best_trial": choice.chosen.trial_id if choice.chosen else None,
        BEST_STEP: choice.chosen.step if choice.chosen else None,
        "choice": choice.as_dict() | {"noise": noise.as_dict() if (noise := closeness(
            choice, spec.objective.metric)) else None},
        "data": split_sizes(spec),  # rows of each split, as the trials saw them
        "leaderboard": {"columns": columns, "rows": rows},
        # The candidates no other beats on both the objective and the drift (selection/front.py).
        "front": [candidate.as_dict() for candidate in front(choice.ranked)],
        "trials": [record.as_dict() | {"label": record.state}
                   for record in ordered(records, choice)],
    }
    if reading.check_report is not None:  # basin check's figures of the top candidates
        payload["check"] = reading.check_report
    run.results_file.write_text(json.dumps(payload, indent=2))
    if choice.chosen is not None:
        run.best_file.write_text(recipe_text(spec, choice.chosen, str(run.best_file),
                                             choice.why, recorded_versions(run)))
