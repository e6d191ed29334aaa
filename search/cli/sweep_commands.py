"""The commands that train: ``basin validate`` (what ``run`` checks first), ``run``,
``resume`` (with what a finished sweep prints) and ``train`` (one recipe in the foreground).
Each imports Ray and torch only when it runs: ``validate`` needs neither."""

from __future__ import annotations

import argparse
import time

from rich.console import Console
from rich.markup import escape

from search.core.console import say, say_command


def validate(args: argparse.Namespace, console: Console) -> int:
    """``basin validate SWEEP``: every check ``run`` makes before a trial starts; 0 when the sweep
    can run."""
    from search.lifecycle.preflight import preflight
    from search.spec.model import load_spec

    spec = load_spec(args.sweep, args.overrides)
    preflight(spec, args.sweep, args.address)
    say(console, f"{args.sweep}: ok (sweep {spec.name}, {len(spec.space)} parameters, "
                 f"{spec.search.num_trials} trials)")
    data_and_warnings(spec, console, here=not args.address)
    return 0


def data_and_warnings(spec, console: Console, here: bool = True) -> None:
    """The split sizes, how long the sweep will take on this machine (``here``, when its speed
    was measured: basin init), and a line for each setting that cannot work as meant."""
    from search.spec.estimate import describe, evaluated_examples, load_speed
    from search.spec.sanity import describe_splits, split_sizes, warnings
    from trainables.models.source import basin_cache

    sizes = split_sizes(spec)
    if describe_splits(sizes):
        say(console, describe_splits(sizes))
    speed = load_speed(spec, basin_cache()) if here else None
    if speed is not None and (examples := evaluated_examples(spec, sizes)):
        say(console, describe(spec, speed, examples))
    for line in warnings(spec, sizes):
        say(console, f"[yellow]warning:[/yellow] {line}")


def train(args: argparse.Namespace, console: Console) -> int:
    """``basin train RECIPE``: one recipe trained here, without Ray, and whether it reproduced its
    figure."""
    from search.core.driver_log import DriverLog
    from search.lifecycle.foreground import settle_library_output, train_here
    from search.spec.model import load_spec
    from search.spec.sanity import describe_splits, split_sizes

    spec = load_spec(args.sweep, args.overrides)
    if not args.verbose:
        settle_library_output()
    with DriverLog(args.verbose) as log:
        if splits := describe_splits(split_sizes(spec)):
            say(console, splits)
        train_here(spec, args.sweep, args.out, say=lambda line: say(console, escape(line)),
                   log=log)
    return 0


def run(args: argparse.Namespace, console: Console) -> int:
    """``basin run SWEEP``: start a sweep, run its trials and hand on its checkpoint."""
    from search.spec.model import load_spec

    spec = load_spec(args.sweep, args.overrides)
    # Imported here: Ray and torch take seconds to import, `validate` needs neither (and every
    # command imports only what it needs: reading a run imports neither).
    from search.core.driver_log import DriverLog
    from search.lifecycle.run import run_trials
    from search.lifecycle.start import start
    from search.store.driver_lock import DriverLock

    with DriverLog(args.verbose) as log:
        run_dir = start(spec, args.sweep, args.address)
        args.run_location = run_dir.location  # for the one line a full disk ends with
        lock = DriverLock(run_dir.path, run_dir.shown)
        lock.acquire("run")  # held until this process ends
        log.write_to(run_dir.path)
        say(console, f"basin: sweep [bold]{spec.name}[/bold], {spec.search.num_trials} "
                     f"trials, run directory {run_dir.shown}")
        data_and_warnings(spec, console, here=not args.address)
        if run_dir.remote:
            console.print(f"(working copy on this machine: {run_dir.path})")
        started = time.monotonic()
        trackers = run_trials(spec, run_dir, quiet=args.quiet, log=log)
        return finish(run_dir, trackers, started, console)


def resume(args: argparse.Namespace, console: Console) -> int:
    """``basin resume RUN_DIR``: continue a sweep whose driver stopped, then finish it."""
    from search.core.driver_log import DriverLog
    from search.lifecycle.resume import reopen, repair_study, resume_trials
    from search.lifecycle.start import check_stores, connect
    from search.store.driver_lock import DriverLock

    with DriverLog(args.verbose) as log:
        run_dir = reopen(args.run_dir, args.sweep)
        args.run_location = run_dir.location  # for the one line a full disk ends with
        # Before anything is read or repaired: a live driver may be writing this sweep.
        lock = DriverLock(run_dir.path, run_dir.shown)
        lock.acquire("resume")  # held until this process ends
        log.write_to(run_dir.path)
        source = run_dir.shown_file(run_dir.sweep_file)
        check_stores(run_dir.spec, source)
        connect(run_dir.spec, args.address, source)
        say_command(console, f"basin: resuming sweep [bold]{run_dir.spec.name}[/bold] in",
                    run_dir.shown)
        repaired = repair_study(run_dir)
        if repaired:
            say(console, f"[yellow]{repaired}[/yellow]")
        started = time.monotonic()
        trackers = resume_trials(run_dir, quiet=args.quiet, log=log)
        return finish(run_dir, trackers, started, console)


def finish(run_dir, trackers, started: float, console: Console) -> int:
    """After the trials: the leaderboard, the choice, where everything is, what to do next."""
    from search.lifecycle.finish import finish_sweep
    from search.lifecycle.resume import dashboard_command
    from search.report.results import describe_choice, leaderboard, say_noise

    done = finish_sweep(run_dir, trackers, progress=console.print)
    spec = run_dir.spec
    # Interrupted: the trials in flight wait for basin resume.
    leaderboard(done.records, done.choice, spec, console,
                in_flight="unfinished" if done.interrupted else "running")
    elapsed = time.monotonic() - started
    if done.check is not None:
        from search.lifecycle.check import print_check

        print_check(done.check, run_dir, console, sweep_seconds=elapsed - done.check.seconds)
    if done.interrupted:
        say(console, f"[yellow]sweep interrupted after {elapsed:.0f} s: {done.ended} of "
                     f"{done.requested} trials finished.[/yellow]")
        say_command(console, "Continue it with:", f"basin resume {run_dir.location}")
        return 130
    # Prose wraps at words; a path or command stays on one line of its own, to be copied.
    say(console, f"plots: {', '.join(p.name for p in done.plots)}")
    console.print("browse the study (pip install optuna-dashboard):")
    console.print(f"  {dashboard_command(run_dir)}")
    for note in done.notes:
        console.print(note)
    kept = done.kept.describe(spec.keep.describe()) if done.kept else "every checkpoint kept"
    say(console, f"wall time {elapsed:.0f} s; run directory {run_dir.size_bytes() / 2**20:.1f} "
                 f"MiB ({kept}; the sweep file's keep block sets how many)")
    say_command(console, "results:", run_dir.shown_file(run_dir.results_file))
    if done.choice.chosen is None:
        say(console, f"[yellow]no checkpoint to hand on ({done.choice.why}); no best.yaml "
                     "written[/yellow]")
        return 1
    say(console, describe_choice(done.choice, run_dir))
    say_noise(console, done.choice, done.records, run_dir)
    say_command(console, "re-train it with:", f"basin train {run_dir.best_file}")
    return 0
