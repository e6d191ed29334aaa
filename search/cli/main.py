"""The ``basin`` command line: parse, run the command's handler, and turn what can go wrong
into one line and an exit code (2: a mistake in the input; 130: interrupted; 1: a full disk)."""

from __future__ import annotations

import argparse
import sys
from typing import Callable

from rich.console import Console

from search.cli.export_command import export
from search.cli.init_command import init
from search.cli.measure_commands import check, confirm
from search.cli.parser import build_parser
from search.cli.read_commands import best, listing, plots, status
from search.cli.sweep_commands import resume, run, train, validate
from search.core.console import make_console
from search.core.errors import SpecError
from search.core.signals import stop_on_sigterm

HANDLERS: dict[str, Callable[[argparse.Namespace, Console], int]] = {
    "init": init, "validate": validate, "run": run, "train": train, "resume": resume,
    "status": status, "ls": listing, "best": best, "plots": plots, "export": export,
    "confirm": confirm, "check": check}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``basin`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    console = make_console()
    stop_on_sigterm()
    try:
        return HANDLERS[args.command](args, console)
    except SpecError as error:
        from search.spec.messages import blame_overrides

        sweep, overrides = getattr(args, "sweep", None), getattr(args, "overrides", None)
        for problem in error.problems:
            print(blame_overrides(problem, sweep, overrides) if sweep else problem,
                  file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # a second Ctrl-C or SIGTERM: Ray Tune stopped at once
        location = getattr(args, "run_location", None)
        print("basin: interrupted" + (f"; continue it with: basin resume {location}"
                                      if location else ""), file=sys.stderr)
        return 130
    except Exception as error:  # a full disk may reach here wrapped by Ray or a library
        from search.cli.disk_full import no_space_error, no_space_line

        full = no_space_error(error)
        if full is None:
            raise
        print(no_space_line(full, getattr(args, "run_location", None)), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
