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
    from search.api import ExportRefused
    from search.api import export as export_run

    if args.step is not None and args.step < 1:
        raise SpecError([f"--step: must be a positive step (got {args.step})"])
    try:
        summary = export_run(args.run_dir, args.out, trial=args.trial, step=args.step,
                             merge=args.merge, verify=args.verify, base=args.base,
                             verbose=args.verbose)
        refused = None
    except ExportRefused as error:
        summary, refused = error.summary, error.problems[0]
    chosen = summary["chosen"]
    say_command(console, f"exported trial {chosen['trial_id']} at step {chosen['step']} "
                f"({summary['objective']['metric']} {chosen['objective']:.4f}) to", str(args.out))
    say(console, f"  why: {escape(summary['why'])}")
    say_command(console, "  base model, as adapter_config.json names it:",
                escape(summary["base_model"]))
    if refused is not None:
        say(console, f"[red]{escape(refused)}[/red]")
        return 1
    if "verified" in summary:
        say(console, "verified: the bundle reproduces the trial's probe at that step "
                     f"(max difference {summary['verified_max_difference']:.2e}, allowed "
                     f"{summary['verify_tolerance']:g})")
    return 0
