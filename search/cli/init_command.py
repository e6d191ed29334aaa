"""``basin init DATA_FILE``: write a starting sweep file for a user's data that fits a time
budget on this machine, check it, and say what to run next."""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path

from rich.console import Console

from search.core.console import say
from search.core.errors import SpecError

# Fewer trials than this leave the searcher nothing to learn from: a budget too small for them
# shortens the trials instead.
LEAST_TRIALS = 4


def init(args: argparse.Namespace, console: Console) -> int:
    """Write the sweep file for ``args.data_file``; it is validated before the user sees it.
    Unless ``--no-measure``, the recipe's speed is measured here and the sweep fitted to
    ``--minutes``: fewer trials, then shorter ones, when ``--trials`` would not fit."""
    from search.spec.starter import check_init_task, plan, read_shape

    if args.list_tasks:
        return list_tasks(console)
    if args.data_file is None:
        raise SpecError(["DATA_FILE: name your data file (CSV, TSV or JSONL), e.g. basin init "
                         "my_data.tsv"])
    if args.task is not None:
        check_init_task(args.task)
    if args.trials < 1:
        raise SpecError([f"--trials: must be at least 1 (got {args.trials})"])
    if not args.minutes > 0:
        raise SpecError([f"--minutes: must be more than 0 (got {args.minutes:g})"])
    out = args.out or args.data_file.with_suffix(".yaml")
    if out.exists() and not args.force:
        raise SpecError([f"{out}: exists; choose another --out, or --force to overwrite it"])
    shape = read_shape(args.data_file, args.task, args.text_column, args.label_column)
    sizes = plan(shape)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", args.data_file.stem).strip("-.") or "sweep"
    out.parent.mkdir(parents=True, exist_ok=True)
    trials = args.trials
    spec = _write(args, out, shape, sizes, name, trials)
    estimate = None
    if not args.no_measure:
        spec, sizes, trials, estimate = _fit_to_budget(args, out, shape, sizes, name, spec,
                                                       console)
    say(console, f"wrote {out}: {shape.task}, {sizes.train_rows} training and "
                 f"{sizes.validation_rows} validation rows, {sizes.max_steps} steps a trial, "
                 f"{trials} trials. Read it, then:")
    console.print(f"  basin validate {out}")
    console.print(f"  basin run {out}")
    if estimate:
        say(console, estimate)
    return 0


def _write(args: argparse.Namespace, out: Path, shape, sizes, name: str, trials: int):
    """Write the sweep file and load it; a file basin would refuse is never left behind."""
    from search.spec.model import load_spec
    from search.spec.starter import starter_text

    out.write_text(starter_text(str(args.data_file), shape, sizes, name, args.model, trials,
                                str(out)), encoding="utf-8")
    try:
        return load_spec(out)
    except SpecError:
        out.unlink()
        raise


def _fit_to_budget(args: argparse.Namespace, out: Path, shape, sizes, name: str, spec,
                   console: Console):
    """Measure the recipe's speed here, then write the sweep again with as many of
    ``--trials`` as fit ``--minutes`` (at least LEAST_TRIALS, made shorter if need be).
    Returns the spec, the sizes, the trials and the estimate's line."""
    from search.cli.speed import measure_speed
    from search.spec.estimate import (
        describe,
        evaluated_examples,
        evaluation_every_that_fits,
        sweep_seconds,
        trial_seconds,
        trials_that_fit,
    )
    from search.spec.sanity import split_sizes
    from search.spec.starter import EVALUATIONS, with_evaluation_every
    from trainables.models.source import basin_cache

    split = split_sizes(spec)
    examples = evaluated_examples(spec, split) or 1
    say(console, f"measuring this machine's speed on {spec.model.name}: a few training steps "
                 "and two evaluations of the recipe, as many at once as the sweep runs trials "
                 "(about half a minute)...")
    log = None if args.verbose else mkdir(basin_cache() / "speed") / "train.log"
    speed = measure_speed(spec, str(out), basin_cache(), split, log)
    budget = args.minutes * 60
    per_trial = trial_seconds(spec, speed, examples)
    at_once = max(1, spec.search.max_concurrent_trials or 1)
    trials = trials_that_fit(args.trials, LEAST_TRIALS, per_trial, at_once, budget)
    rounds = math.ceil(trials / at_once)
    if rounds * per_trial > budget:  # even the fewest trials do not fit: shorter trials
        every = evaluation_every_that_fits(speed, examples, EVALUATIONS, rounds, budget)
        if every < sizes.eval_every:
            sizes = with_evaluation_every(sizes, every)
    spec = _write(args, out, shape, sizes, name, trials)
    line = describe(spec, speed, examples)
    if sweep_seconds(spec, speed, examples) > budget:
        line += f"; more than --minutes {args.minutes:g}: a smaller model or less data would fit"
    return spec, sizes, trials, line


def mkdir(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def list_tasks(console: Console) -> int:
    """``basin init --list-tasks``: every task a sweep can name, built in or installed (the
    ``basin.tasks`` entry points), what it learns and what it may optimise; init writes a
    starting sweep for the built-in ones."""
    from search.spec.starter import STARTERS
    from trainables.tasks import TASKS, declared, installed_tasks

    rows = [(name, "built in", TASKS[name]) for name in TASKS]
    for name, where in installed_tasks().items():
        try:
            rows.append((name, where, declared(name)))
        except ValueError as error:  # a broken plug-in is listed with its problem
            say(console, f"[yellow]{name} ({where}): {error}[/yellow]")
    for name, where, declaration in rows:
        starter = "basin init writes its sweep" if name in STARTERS else "start from its package"
        say(console, f"{name}: {declaration.summary} ({where}; {starter}); objectives: "
                     f"{', '.join(declaration.objectives)}")
    return 0
