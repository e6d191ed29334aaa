"""The commands that read a run directory: ``basin status``, ``ls``, ``best`` and ``plots``
(which draws the plots again). Reading a run imports neither Ray Tune nor torch."""

from __future__ import annotations

import argparse

from rich.console import Console

from search.cli.parser import USE_RULE
from search.core.console import say
from search.core.errors import SpecError


def status(args: argparse.Namespace, console: Console) -> int:
    """``basin status RUN_DIR``: a run's trials and how far it is."""
    from search.report.status import print_status
    from search.store.rundir import RunDir

    print_status(RunDir.open(args.run_dir), console)
    return 0


def listing(args: argparse.Namespace, console: Console) -> int:
    """``basin ls [FOLDER]``: the run directories under a folder and their state."""
    from search.report.run_list import print_runs

    print_runs(args.folder, console)
    return 0


def plots(args: argparse.Namespace, console: Console) -> int:
    """``basin plots RUN_DIR``: draw a run's plots again (and upload them to its object store)."""
    from search.lifecycle.finish import sync
    from search.report.plots.sweep import write_plots
    from search.store.reading import read_run

    reading = read_run(args.run_dir)
    run_dir = reading.run
    for path in write_plots(reading):
        console.print(f"wrote {path}")
    sync(run_dir)
    if run_dir.remote:
        console.print(f"uploaded to {run_dir.shown}")
    return 0


def _gap_filter(run_dir, value: str):
    """The candidates ``--within-gap-limit`` keeps: those the sweep's gap rule (or one with the
    limit given) finds within its threshold; returns (filter, description)."""
    import math

    from search.stopping import GapRule

    rule = run_dir.spec.stopping.gap
    if value == USE_RULE:
        if rule is None or not rule.enabled:
            raise SpecError(["--within-gap-limit: the sweep has no gap rule (stopping.gap); "
                             "give the limit, e.g. --within-gap-limit 0.2"])
    else:
        try:
            limit = float(value)
        except ValueError:
            limit = math.nan
        if not math.isfinite(limit) or limit < 0:
            raise SpecError([f"--within-gap-limit: must be a finite number >= 0 (got {value!r})"])
        rule = GapRule(threshold=limit, relative=rule.relative if rule else False)
    return (lambda c: c.gap is not None and rule.within_limit(c.gap, c.val_loss or math.nan),
            f"gap within {rule.describe_limit()}")


def best(args: argparse.Namespace, console: Console) -> int:
    """``basin best RUN_DIR``: the run's choice and its leaderboard (or its front)."""
    from search.report.results import describe_choice, leaderboard, say_noise
    from search.store.reading import RunReading
    from search.store.rundir import RunDir

    if args.top is not None and args.top < 1:
        raise SpecError([f"--top: must be a positive number of trials (got {args.top})"])
    run_dir = RunDir.open(args.run_dir)
    spec = run_dir.spec
    keep, title = None, None
    if args.within_gap_limit is not None:
        keep, limit = _gap_filter(run_dir, args.within_gap_limit)
        title = (f"{spec.name}: {spec.objective.metric} ({spec.objective.mode}), "
                 f"selection {spec.selection.criterion}, candidates with {limit}")
    reading = RunReading(run_dir)
    records, choice = reading.records, reading.choice(keep=keep)
    if keep is not None:  # trials without a candidate within the limit are not shown
        records = [r for r in records if choice.best_of(r.trial_id) is not None]
    say(console, describe_choice(choice, run_dir))
    say_noise(console, choice, records, run_dir)
    if run_dir.journal_damage:
        say(console, f"[yellow]{run_dir.journal_damage.describe()}[/yellow]")
    if args.front:
        from search.report.front_table import print_front

        print_front(choice, spec, console)
        return 0
    from search.report.status import in_flight, sweep_state

    leaderboard(records, choice, spec, console, top=args.top, title=title,
                in_flight=in_flight(sweep_state(run_dir)[0]))
    return 0
