"""The commands that read or extend a run directory: status, ls, best, plots, confirm, check
and export (each imports what it needs when it runs: reading a run imports neither Ray Tune
nor torch)."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.markup import escape

from search.cli.parser import USE_RULE
from search.core.console import say
from search.core.errors import SpecError
from search.core.layout import CHECK_PLOT


def status(args: argparse.Namespace, console: Console) -> int:
    from search.report.status import print_status
    from search.store.rundir import RunDir

    print_status(RunDir.open(args.run_dir), console)
    return 0


def listing(args: argparse.Namespace, console: Console) -> int:
    from search.report.run_list import print_runs

    print_runs(args.folder, console)
    return 0


def plots(args: argparse.Namespace, console: Console) -> int:
    from search.lifecycle import sweep
    from search.report.plots.sweep import write_plots
    from search.store.records import collect_records
    from search.store.rundir import RunDir

    run_dir = RunDir.open(args.run_dir)
    for path in write_plots(run_dir, collect_records(run_dir)):
        console.print(f"wrote {path}")
    sweep.sync(run_dir)
    if run_dir.remote:
        console.print(f"uploaded to {run_dir.shown}")
    return 0


def confirm(args: argparse.Namespace, console: Console) -> int:
    from search.core.driver_log import DriverLog
    from search.lifecycle import sweep
    from search.lifecycle.confirm import confirm, print_confirmed
    from search.report.results import choice_of, describe_choice, leaderboard, write_results
    from search.store.records import collect_records
    from search.store.rundir import RunDir

    for flag, value in (("--top", args.top), ("--seeds", args.seeds)):
        if value < 1:
            raise SpecError([f"{flag}: must be at least 1 (got {value})"])
    run_dir = RunDir.open(args.run_dir)
    with DriverLog(args.verbose) as log:
        log.write_to(run_dir.path)
        sweep.connect(run_dir.spec, args.address, run_dir.shown_file(run_dir.sweep_file))
        records = collect_records(run_dir)
        choice = choice_of(run_dir, records)
        leaderboard(records, choice, run_dir.spec, console, top=args.top,
                    title="before confirm: the sweep's top")
        confirmed = confirm(run_dir, choice, args.top, args.seeds, quiet=args.quiet, log=log)
    print_confirmed(confirmed, run_dir, console)
    choice = choice_of(run_dir, records)
    if run_dir.finished:  # results.json and best.yaml name the confirmed winner from now on
        write_results(run_dir, records, choice)
    sweep.sync(run_dir)
    console.print(f"written to {run_dir.shown_file(run_dir.confirm_file)}")
    console.print(describe_choice(choice, run_dir))
    return 0


def check(args: argparse.Namespace, console: Console) -> int:
    from search.core.driver_log import DriverLog
    from search.lifecycle import sweep
    from search.lifecycle.check import check_settings, print_check, run_check, track_check
    from search.lifecycle.tracking import make_trackers
    from search.report.plots.check import plot_check
    from search.report.results import choice_of, describe_choice, write_results
    from search.store.records import collect_records
    from search.store.rundir import RunDir
    from trainables.check.settings import FLAGS

    run_dir = RunDir.open(args.run_dir)
    settings = check_settings(run_dir, **{name: getattr(args, name) for name in FLAGS})
    records = collect_records(run_dir)
    with DriverLog(args.verbose) as log:  # loading models: transformers' noise
        log.write_to(run_dir.path)
        with log.prints():
            report = run_check(run_dir, records, settings, progress=console.print)
        trackers = make_trackers(run_dir.spec, run_dir, quiet=True)
        track_check(report, records, trackers)
        for tracker in trackers:
            tracker.close()
    print_check(report, run_dir, console)
    choice = choice_of(run_dir, records)
    if run_dir.finished:  # results.json (and best.yaml, for selection robust) gain the figures
        write_results(run_dir, records, choice)
    plot_check(report.entries, choice, run_dir.spec.objective.metric, run_dir.spec.name,
               run_dir.plot_file(CHECK_PLOT))
    sweep.sync(run_dir)
    console.print(f"written to {run_dir.shown_file(run_dir.check_file)} and "
                  f"{run_dir.shown_file(run_dir.plot_file(CHECK_PLOT))}")
    console.print(describe_choice(choice, run_dir))
    return 0


def export(args: argparse.Namespace, console: Console) -> int:
    from search.core.driver_log import DriverLog
    from search.report.export.bundle import export_bundle
    from search.report.export.verify import refusal
    from search.store.rundir import RunDir

    if args.step is not None and args.step < 1:
        raise SpecError([f"--step: must be a positive step (got {args.step})"])
    run_dir = RunDir.open(args.run_dir)
    with DriverLog(args.verbose) as log:  # loading models: transformers' and DeepSpeed's noise
        log.write_to(run_dir.path)
        with log.prints():
            summary = export_bundle(run_dir, args.out, args.trial, args.merge, args.verify,
                                    step=args.step, base=args.base)
    chosen = summary["chosen"]
    console.print(f"exported trial {chosen['trial_id']} at step {chosen['step']} "
                  f"({summary['objective']['metric']} {chosen['objective']:.4f}) to {args.out}")
    console.print(f"  why: {summary['why']}")
    if "verified" in summary and not summary["verified"]:
        say(console, f"[red]{escape(refusal(summary, str(args.out)))}[/red]")
        return 1
    if "verified" in summary:
        console.print("verified: the bundle reproduces the trial's probe at that step "
                      f"(max difference {summary['verified_max_difference']:.2e}, allowed "
                      f"{summary['verify_tolerance']:g})")
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
    from search.report.results import choice_of, describe_choice, leaderboard
    from search.store.records import collect_records
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
    records = collect_records(run_dir)
    choice = choice_of(run_dir, records, keep=keep)
    if keep is not None:  # trials without a candidate within the limit are not shown
        records = [r for r in records if choice.best_of(r.trial_id) is not None]
    console.print(describe_choice(choice, run_dir))
    if run_dir.journal_damage:
        console.print(f"[yellow]{run_dir.journal_damage.describe()}[/yellow]")
    if args.front:
        from search.report.front_table import print_front

        print_front(choice, spec, console)
        return 0
    leaderboard(records, choice, spec, console, top=args.top, title=title)
    return 0
