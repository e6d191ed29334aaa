"""The ``basin`` command line."""

from __future__ import annotations

import argparse
import sys
import time

from rich.console import Console

from search.cli.parser import USE_RULE, build_parser
from search.core.console import make_console, say
from search.core.errors import SpecError
from search.core.layout import CHECK_PLOT


def _validate(args: argparse.Namespace, console: Console) -> int:
    from search.lifecycle.preflight import preflight
    from search.spec.model import load_spec

    spec = load_spec(args.sweep, args.overrides)
    preflight(spec, args.sweep, args.address)
    console.print(f"{args.sweep}: ok (sweep {spec.name}, {len(spec.space)} parameters, "
                  f"{spec.search.num_trials} trials)")
    return 0


def _train(args: argparse.Namespace, console: Console) -> int:
    from search.lifecycle.foreground import train_here
    from search.spec.model import load_spec

    spec = load_spec(args.sweep, args.overrides)
    train_here(spec, args.sweep, args.out, say=console.print)
    return 0


def _run(args: argparse.Namespace, console: Console) -> int:
    from search.spec.model import load_spec

    spec = load_spec(args.sweep, args.overrides)
    # Imported here: Ray and torch take seconds to import, `validate` needs neither (and every
    # command imports only what it needs: reading a run imports neither).
    from search.core.driver_log import DriverLog
    from search.lifecycle import sweep

    with DriverLog(args.verbose) as log:
        run_dir = sweep.start(spec, args.sweep, args.address)
        log.write_to(run_dir.path)
        console.print(f"basin: sweep [bold]{spec.name}[/bold], {spec.search.num_trials} "
                      f"trials, run directory {run_dir.shown}")
        if run_dir.remote:
            console.print(f"(working copy on this machine: {run_dir.path})")
        started = time.monotonic()
        trackers = sweep.run(spec, run_dir, quiet=args.quiet, log=log)
        return _finish(run_dir, trackers, started, console)


def _resume(args: argparse.Namespace, console: Console) -> int:
    from search.core.driver_log import DriverLog
    from search.lifecycle import sweep

    with DriverLog(args.verbose) as log:
        run_dir = sweep.reopen(args.run_dir, args.sweep)
        log.write_to(run_dir.path)
        source = run_dir.shown_file(run_dir.sweep_file)
        sweep.check_stores(run_dir.spec, source)
        sweep.connect(run_dir.spec, args.address, source)
        console.print(f"basin: resuming sweep [bold]{run_dir.spec.name}[/bold] in "
                      f"{run_dir.shown}")
        repaired = sweep.repair_study(run_dir)
        if repaired:
            console.print(f"[yellow]{repaired}[/yellow]")
        started = time.monotonic()
        trackers = sweep.resume(run_dir, quiet=args.quiet, log=log)
        return _finish(run_dir, trackers, started, console)


def _finish(run_dir, trackers, started: float, console: Console) -> int:
    """After the trials: the leaderboard, the choice, where everything is, what to do next."""
    from search.lifecycle import sweep
    from search.report.results import describe_choice, leaderboard

    done = sweep.finish(run_dir, trackers, progress=console.print)
    spec = run_dir.spec
    leaderboard(done.records, done.choice, spec, console)
    elapsed = time.monotonic() - started
    if done.check is not None:
        from search.lifecycle.check import print_check

        print_check(done.check, run_dir, console, sweep_seconds=elapsed - done.check.seconds)
    if done.interrupted:
        console.print(f"[yellow]sweep interrupted after {elapsed:.0f} s: {done.ended} of "
                      f"{done.requested} trials finished.[/yellow] Continue it with: "
                      f"basin resume {run_dir.location}")
        return 130
    # Prose wraps at words; a path or command stays on one line of its own, to be copied.
    say(console, f"plots: {', '.join(p.name for p in done.plots)}")
    console.print("browse the study (pip install optuna-dashboard):")
    console.print(f"  {sweep.dashboard_command(run_dir)}")
    for note in done.notes:
        console.print(note)
    say(console, f"wall time {elapsed:.0f} s; run directory {run_dir.size_bytes() / 2**20:.1f} "
                 "MiB (an adapter per evaluation, the latest two resume checkpoints per trial)")
    console.print(f"results: {run_dir.shown_file(run_dir.results_file)}")
    if done.choice.chosen is None:
        console.print(f"[yellow]no checkpoint to hand on ({done.choice.why}); no best.yaml "
                      "written[/yellow]")
        return 1
    console.print(describe_choice(done.choice, run_dir))
    console.print(f"re-train it with: basin run {run_dir.best_file}")
    return 0


def _status(args: argparse.Namespace, console: Console) -> int:
    from search.report.status import print_status
    from search.store.rundir import RunDir

    print_status(RunDir.open(args.run_dir), console)
    return 0


def _ls(args: argparse.Namespace, console: Console) -> int:
    from search.report.run_list import print_runs

    print_runs(args.folder, console)
    return 0


def _plots(args: argparse.Namespace, console: Console) -> int:
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


def _confirm(args: argparse.Namespace, console: Console) -> int:
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


def _check(args: argparse.Namespace, console: Console) -> int:
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


def _export(args: argparse.Namespace, console: Console) -> int:
    from search.core.driver_log import DriverLog
    from search.report.export.bundle import export_bundle
    from search.store.rundir import RunDir

    if args.step is not None and args.step < 1:
        raise SpecError([f"--step: must be a positive step (got {args.step})"])
    run_dir = RunDir.open(args.run_dir)
    with DriverLog(args.verbose) as log:  # loading models: transformers' and DeepSpeed's noise
        log.write_to(run_dir.path)
        with log.prints():
            summary = export_bundle(run_dir, args.out, args.trial, args.merge, args.verify,
                                    step=args.step)
    chosen = summary["chosen"]
    console.print(f"exported trial {chosen['trial_id']} at step {chosen['step']} "
                  f"({summary['objective']['metric']} {chosen['objective']:.4f}) to {args.out}")
    console.print(f"  why: {summary['why']}")
    if "verified_max_difference" in summary:
        console.print("verified: the bundle reproduces the trial's probe at that step "
                      f"(max difference {summary['verified_max_difference']:.2e})")
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


def _best(args: argparse.Namespace, console: Console) -> int:
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
    leaderboard(records, choice, spec, console, top=args.top, title=title)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``basin`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    console = make_console()
    try:
        handlers = {"validate": _validate, "run": _run, "train": _train, "status": _status,
                    "ls": _ls,
                    "best": _best, "plots": _plots, "export": _export, "confirm": _confirm,
                    "resume": _resume, "check": _check}
        return handlers[args.command](args, console)
    except SpecError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("basin: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
