"""The ``basin`` command line."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict
from pathlib import Path

from rich.console import Console

from search.console import make_console
from search.spec import SpecError, load_spec

EXAMPLES = """\
examples:
  basin validate sweeps/minilm_lora.yaml
  basin run sweeps/minilm_lora.yaml
  basin run sweeps/minilm_lora.yaml --set search.num_trials=4 --set training.max_steps=60
  basin run sweeps/llm_lora_gpu.yaml --address auto          # on a running Ray cluster
  basin run runs/minilm-lora-demo-20260101-120000/best.yaml
  basin resume runs/minilm-lora-demo-20260101-120000
  basin status runs/minilm-lora-demo-20260101-120000
  basin best runs/minilm-lora-demo-20260101-120000 --top 3 --within-gap-limit
  basin confirm runs/minilm-lora-demo-20260101-120000 --top 3 --seeds 2
  basin export runs/minilm-lora-demo-20260101-120000 --out bundle/ --merge
  basin status s3://my-bucket/basin/llm-lora-gpu-20260101-120000  # run directory in a bucket
"""


ADDRESS_HELP = ("a Ray cluster to run on, e.g. 10.0.0.1:6379 or auto (default: $RAY_ADDRESS, "
                "else a local Ray instance)")


def _start_on_cluster(spec, address: str | None, source: str) -> None:
    """Connect to (or start) Ray and refuse trials that no node of it could ever hold."""
    from search.cluster import check_feasible
    from search.runner import start_ray

    start_ray(address)
    check_feasible(spec, source)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="basin",
        description="Hyperparameter sweeps of LoRA fine-tuning jobs with Ray Tune, Optuna and "
        "DeepSpeed; trials that overfit are stopped by their validation gap.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_sweep(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text, epilog=EXAMPLES,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.add_argument("sweep", metavar="SWEEP_FILE",
                         help="a sweep file, e.g. sweeps/minilm_lora.yaml")
        sub.add_argument("--set", dest="overrides", action="append", default=[],
                         metavar="KEY=VALUE",
                         help="override a field, e.g. --set search.num_trials=4 (repeatable)")
        return sub

    run = with_sweep("run", "run a sweep: trials, leaderboard, results.json and best.yaml")
    run.add_argument("--quiet", action="store_true", help="no per-evaluation progress lines")
    run.add_argument("--address", metavar="ADDR", help=ADDRESS_HELP)
    with_sweep("validate", "check a sweep file without running anything")

    def with_run_dir(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text, epilog=EXAMPLES,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.add_argument("run_dir", metavar="RUN_DIR",
                         help="a sweep's run directory, e.g. runs/minilm-lora-demo-20260101-120000"
                         " or s3://my-bucket/basin/minilm-lora-demo-20260101-120000")
        return sub

    resume = with_run_dir("resume", "continue a sweep whose driver was killed or interrupted")
    resume.add_argument("--sweep", metavar="SWEEP_FILE",
                        help="refuse to resume unless the run directory ran this sweep file")
    resume.add_argument("--quiet", action="store_true", help="no per-evaluation progress lines")
    resume.add_argument("--address", metavar="ADDR", help=ADDRESS_HELP)
    with_run_dir("status", "trials of a sweep (running or finished): status, best so far, time")
    with_run_dir("plots", "write the sweep's PNG plots into its run directory (again)")
    check = with_run_dir("confirm", "re-train the top configurations with new seeds and rank "
                         "them by mean and spread (and test score, if there is a test split)")
    check.add_argument("--top", type=int, default=3, metavar="K", help="configurations [3]")
    check.add_argument("--seeds", type=int, default=2, metavar="N", help="new seeds each [2]")
    check.add_argument("--quiet", action="store_true", help="no per-evaluation progress lines")
    check.add_argument("--address", metavar="ADDR", help=ADDRESS_HELP)
    export = with_run_dir("export", "a production bundle of the best (or a chosen) trial")
    export.add_argument("--out", required=True, type=Path, metavar="DIR",
                        help="folder to write the bundle into (new or empty)")
    export.add_argument("--trial", metavar="ID", help="a trial id (default: the best completed)")
    export.add_argument("--merge", action="store_true",
                        help="also write merged/: the base model with the adapter merged in")
    export.add_argument("--no-verify", dest="verify", action="store_false",
                        help="skip re-loading the bundle to check its predictions")
    best = with_run_dir("best", "the leaderboard of a sweep, ranked by the objective")
    best.add_argument("--top", type=int, metavar="K", help="show only the best K trials")
    best.add_argument("--within-gap-limit", action="store_true",
                      help="only trials whose last gap is under the sweep's gap threshold")
    return parser


def _check_stores(spec, source: str) -> None:
    """Refuse a study database or an object store that cannot be reached, before Ray or any
    trial starts."""
    from search import location as store
    from search.study_storage import check_reachable

    problem = check_reachable(spec.search.storage)
    if problem:
        raise SpecError([f"{source}: search.storage: {problem}"])
    if store.is_object_store(spec.output_dir):
        try:
            store.check_reachable(spec.output_dir)
        except store.LocationError as error:
            raise SpecError([f"{source}: output_dir: cannot reach it: {error}"]) from error


def _run(args: argparse.Namespace, console: Console) -> int:
    spec = load_spec(args.sweep, args.overrides)
    # Imported here: Ray and torch take seconds to import, `validate` needs neither.
    from search.runner import new_run_dir, run_sweep

    _check_stores(spec, args.sweep)
    _start_on_cluster(spec, args.address, args.sweep)
    run = new_run_dir(spec)
    console.print(f"basin: sweep [bold]{spec.name}[/bold], {spec.search.num_trials} trials, "
                  f"run directory {run.shown}")
    if run.remote:
        console.print(f"(working copy on this machine: {run.path})")
    started = time.monotonic()
    outcome = run_sweep(spec, run, quiet=args.quiet)
    return _finish(spec, run, outcome, started, console)


def _resume(args: argparse.Namespace, console: Console) -> int:
    from search.rundir import RunDir
    from search.runner import check_resumable, resume_sweep

    run = RunDir.open(args.run_dir)
    spec = run.spec
    if args.sweep is not None:
        _check_same_sweep(load_spec(args.sweep), spec, args.sweep, run.shown)
    if run.finished:
        raise SpecError([f"{run.shown}: this sweep has finished; nothing to resume"])
    check_resumable(run)
    _check_stores(spec, f"{run.shown}/sweep.yaml")
    _start_on_cluster(spec, args.address, f"{run.shown}/sweep.yaml")
    console.print(f"basin: resuming sweep [bold]{spec.name}[/bold] in {run.shown}")
    started = time.monotonic()
    outcome = resume_sweep(spec, run, quiet=args.quiet)
    return _finish(spec, run, outcome, started, console)


def _check_same_sweep(given, recorded, given_path, run_dir) -> None:
    """Refuse to resume a run directory with a different sweep than the one it ran."""
    ignore = {"output_dir"}
    if given.model_dump(exclude=ignore) != recorded.model_dump(exclude=ignore):
        changed = [key for key in type(given).model_fields if key not in ignore
                   and getattr(given, key) != getattr(recorded, key)]
        raise SpecError([f"{given_path}: {run_dir} belongs to a different sweep "
                         f"({recorded.name!r}; differs in: {', '.join(changed)})"])


def _finish(spec, run, outcome, started: float, console: Console) -> int:
    """After the trials: leaderboard, results, plots, the W&B sweep run, and what to do next."""
    from search.plots import write_plots
    from search.results import collect_records, leaderboard, leaderboard_rows, write_results
    from search.tracking import sync_command

    run_dir = run.path
    _sync(run, download=True)  # an object-store run: the trials' folders, as Ray left them
    records = collect_records(run)
    leaderboard(records, spec, console)
    ended = sum(r.status in ("completed", "pruned", "failed") for r in records)
    elapsed = time.monotonic() - started
    if ended < spec.search.num_trials:
        console.print(f"[yellow]sweep interrupted after {elapsed:.0f} s: {ended} of "
                      f"{spec.search.num_trials} trials finished.[/yellow] Continue it with: "
                      f"basin resume {run.location}")
        return 130
    best = write_results(run_dir, spec, records)
    plots = write_plots(run, records)
    console.print(f"plots: {', '.join(p.name for p in plots)}")
    outcome.tracker.log_sweep(*leaderboard_rows(records, spec),
                              best=asdict(best) if best else None, plots=plots)
    _sync(run)
    if outcome.tracker.mode == "offline":
        console.print(f"W&B runs are offline; upload them with: {sync_command(run_dir)}")
    console.print(f"wall time {elapsed:.0f} s; run directory {run.size_bytes() / 2**20:.1f} MiB "
                  f"(at most 2 checkpoints per trial); results in {run.shown}/results.json")
    if best is None:
        console.print("[yellow]no trial completed its budget; no best.yaml written[/yellow]")
        return 1
    console.print(f"best trial {best.trial_id}: {spec.objective.metric} {best.best_objective:.4f}"
                  f"; re-train it with: basin run {run_dir / 'best.yaml'}")
    return 0


def _sync(run, download: bool = False) -> None:
    """Upload what the driver wrote to an object-store run directory and, with ``download``,
    then refresh its mirror with what Ray uploaded (both no-ops for a path)."""
    from search.location import LocationError

    try:
        run.push()  # first: a file pushed here is not downloaded back
        if download:
            run.pull()
    except LocationError as error:
        raise SpecError([f"{run.shown}: {error}"]) from error


def _status(args: argparse.Namespace, console: Console) -> int:
    from search.rundir import RunDir
    from search.status import print_status

    print_status(RunDir.open(args.run_dir), console)
    return 0


def _plots(args: argparse.Namespace, console: Console) -> int:
    from search.plots import write_plots
    from search.results import collect_records
    from search.rundir import RunDir

    run = RunDir.open(args.run_dir)
    for path in write_plots(run, collect_records(run)):
        console.print(f"wrote {path}")
    _sync(run)
    if run.remote:
        console.print(f"uploaded to {run.shown}")
    return 0


def _confirm(args: argparse.Namespace, console: Console) -> int:
    from search.confirm import confirm, print_confirmed
    from search.results import collect_records, leaderboard
    from search.rundir import RunDir

    for flag, value in (("--top", args.top), ("--seeds", args.seeds)):
        if value < 1:
            raise SpecError([f"{flag}: must be at least 1 (got {value})"])
    run = RunDir.open(args.run_dir)
    _start_on_cluster(run.spec, args.address, f"{run.shown}/sweep.yaml")
    records = collect_records(run)
    leaderboard(records, run.spec, console, top=args.top, title="before confirm: the sweep's top")
    confirmed = confirm(run, records, args.top, args.seeds, quiet=args.quiet)
    print_confirmed(confirmed, run, console)
    _sync(run)
    console.print(f"written to {run.shown}/confirm.json")
    return 0


def _export(args: argparse.Namespace, console: Console) -> int:
    from search.export import export_bundle
    from search.rundir import RunDir

    summary = export_bundle(RunDir.open(args.run_dir), args.out, args.trial, args.merge,
                            args.verify)
    trial = summary["trial"]
    console.print(f"exported trial {trial['trial_id']} (best {summary['objective']['metric']} "
                  f"{trial['best_objective']:.4f} at step {trial['best_step']}) to {args.out}")
    if "verified_max_logit_difference" in summary:
        console.print("verified: the bundle reproduces the trial's logits at its best step "
                      f"(max difference {summary['verified_max_logit_difference']:.2e})")
    return 0


def _best(args: argparse.Namespace, console: Console) -> int:
    from search.results import collect_records, leaderboard, within_gap_limit
    from search.rundir import RunDir

    if args.top is not None and args.top < 1:
        raise SpecError([f"--top: must be a positive number of trials (got {args.top})"])
    run = RunDir.open(args.run_dir)
    records = collect_records(run)
    title = None
    if args.within_gap_limit:
        records = [r for r in records if within_gap_limit(r, run.spec)]
        title = (f"{run.spec.name}: {run.spec.objective.metric} ({run.spec.objective.mode}), "
                 f"last gap within {run.spec.gap_pruning.threshold}")
    leaderboard(records, run.spec, console, top=args.top, title=title)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``basin`` console script; returns the exit code."""
    args = _parser().parse_args(argv)
    console = make_console()
    try:
        if args.command == "validate":
            spec = load_spec(args.sweep, args.overrides)
            console.print(f"{args.sweep}: ok (sweep {spec.name}, {len(spec.space)} parameters, "
                          f"{spec.search.num_trials} trials)")
            return 0
        handlers = {"run": _run, "status": _status, "best": _best, "plots": _plots,
                    "export": _export, "confirm": _confirm, "resume": _resume}
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
