"""``basin export``: a run's chosen checkpoint (or a trial's) as a bundle that loads without
basin, refused when it does not reproduce its trial's probe."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.markup import escape

from search.core.console import say, say_command
from search.core.errors import SpecError


def export(args: argparse.Namespace, console: Console) -> int:
    """``basin export RUN_DIR --out DIR``: the chosen checkpoint as a bundle, verified."""
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
    say_command(console, f"exported trial {chosen['trial_id']} at step {chosen['step']} "
                f"({summary['objective']['metric']} {chosen['objective']:.4f}) to", str(args.out))
    say(console, f"  why: {escape(summary['why'])}")
    say_command(console, "  base model, as adapter_config.json names it:",
                escape(summary["base_model"]))
    if "verified" in summary and not summary["verified"]:
        say(console, f"[red]{escape(refusal(summary, str(args.out)))}[/red]")
        return 1
    if "verified" in summary:
        say(console, "verified: the bundle reproduces the trial's probe at that step "
                     f"(max difference {summary['verified_max_difference']:.2e}, allowed "
                     f"{summary['verify_tolerance']:g})")
    return 0
