"""The commands that measure a finished sweep's leaders again: ``basin confirm`` (re-train
them with new seeds) and ``basin check`` (the flatness of their minima); both write what they
found into the run directory and, for a finished sweep, its results."""

from __future__ import annotations

import argparse

from rich.console import Console

from search.core.console import say, say_command
from search.core.errors import SpecError
from search.core.layout import CHECK_PLOT


def confirm(args: argparse.Namespace, console: Console) -> int:
    """``basin confirm RUN_DIR``: re-train the top candidates with new seeds and rank them
    again."""
    from search.core.driver_log import DriverLog
    from search.lifecycle.confirm import confirm, print_confirmed
    from search.lifecycle.finish import sync
    from search.lifecycle.start import connect
    from search.report.results import describe_choice, leaderboard, write_results
    from search.store.reading import read_run

    for flag, value in (("--top", args.top), ("--seeds", args.seeds)):
        if value < 1:
            raise SpecError([f"{flag}: must be at least 1 (got {value})"])
    reading = read_run(args.run_dir)
    run_dir = reading.run
    with DriverLog(args.verbose) as log:
        log.write_to(run_dir.path)
        connect(run_dir.spec, args.address, run_dir.shown_file(run_dir.sweep_file))
        leaderboard(reading.records, reading.choice(), run_dir.spec, console, top=args.top,
                    title="before confirm: the sweep's top")
        confirmed = confirm(run_dir, reading.choice(), args.top, args.seeds, quiet=args.quiet,
                            log=log)
    print_confirmed(confirmed, run_dir, console)
    reading.results_written()  # confirm.json: its winner is the choice from now on
    choice = reading.choice()
    if run_dir.finished:  # results.json and best.yaml name the confirmed winner from now on
        write_results(reading)
    sync(run_dir)
    say_command(console, "written to", run_dir.shown_file(run_dir.confirm_file))
    say(console, describe_choice(choice, run_dir))
    return 0


def check(args: argparse.Namespace, console: Console) -> int:
    """``basin check RUN_DIR``: measure the flatness of the top candidates' minima."""
    from search.core.driver_log import DriverLog
    from search.lifecycle.check import check_settings, print_check, run_check, track_check
    from search.lifecycle.finish import sync
    from search.lifecycle.tracking import make_trackers
    from search.report.plots.check import plot_check
    from search.report.results import describe_choice, write_results
    from search.store.reading import read_run
    from trainables.check.settings import FLAGS

    reading = read_run(args.run_dir)
    run_dir = reading.run
    settings = check_settings(run_dir, **{name: getattr(args, name) for name in FLAGS})
    with DriverLog(args.verbose) as log:  # loading models: transformers' noise
        log.write_to(run_dir.path)
        with log.prints():
            report = run_check(reading, settings, progress=console.print)
        trackers = make_trackers(run_dir.spec, run_dir, quiet=True)
        track_check(report, reading.records, trackers)
        for tracker in trackers:
            tracker.close()
    print_check(report, run_dir, console)
    choice = reading.choice()
    if run_dir.finished:  # results.json (and best.yaml, for selection robust) gain the figures
        write_results(reading)
    plot_check(report.entries, choice, run_dir.spec.objective.metric, run_dir.spec.name,
               run_dir.plot_file(CHECK_PLOT))
    sync(run_dir)
    say_command(console, "written to", run_dir.shown_file(run_dir.check_file))
    say_command(console, "and", run_dir.shown_file(run_dir.plot_file(CHECK_PLOT)))
    say(console, describe_choice(choice, run_dir))
    return 0
