"""``basin init DATA_FILE``: write a starting sweep file for a user's data, check it, and say
what to run next."""

from __future__ import annotations

import argparse
import re

from rich.console import Console

from search.core.console import say
from search.core.errors import SpecError


def init(args: argparse.Namespace, console: Console) -> int:
    """Write the sweep file for ``args.data_file``; it is validated before the user sees it."""
    from search.spec.model import load_spec
    from search.spec.starter import plan, read_shape, starter_text

    if args.trials < 1:
        raise SpecError([f"--trials: must be at least 1 (got {args.trials})"])
    out = args.out or args.data_file.with_suffix(".yaml")
    if out.exists() and not args.force:
        raise SpecError([f"{out}: exists; choose another --out, or --force to overwrite it"])
    shape = read_shape(args.data_file, args.task, args.text_column, args.label_column)
    sizes = plan(shape)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", args.data_file.stem).strip("-.") or "sweep"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(starter_text(str(args.data_file), shape, sizes, name, args.model,
                                args.trials, str(out)), encoding="utf-8")
    try:
        load_spec(out)
    except SpecError:
        out.unlink()  # never leave a file behind that basin itself would refuse
        raise
    say(console, f"wrote {out}: {shape.task}, {sizes.train_rows} training and "
                 f"{sizes.validation_rows} validation rows, {sizes.max_steps} steps a trial, "
                 f"{args.trials} trials. Read it, then:")
    console.print(f"  basin validate {out}")
    console.print(f"  basin run {out}")
    return 0
