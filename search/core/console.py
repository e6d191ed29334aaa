"""The terminal console basin prints to."""

from __future__ import annotations

import sys

from rich.console import Console


def make_console() -> Console:
    """A console that keeps a leaderboard row on one line even when output goes to a file."""
    # soft_wrap: a printed path or command stays on one line, so it can be copied. The console
    # holds today's stdout: while Ray Tune fits, stdout may go to the driver log (driver_log.py).
    console = Console(highlight=False, soft_wrap=True, file=sys.stdout)
    if not console.is_terminal:
        console = Console(highlight=False, soft_wrap=True, width=160, file=sys.stdout)
    return console


def say(console: Console, text: str) -> None:
    """Print prose: wrapped at words on a terminal (the terminal itself would cut mid-word),
    one line elsewhere, where logs are read a line at a time."""
    console.print(text, soft_wrap=not console.is_terminal)


def say_command(console: Console, label: str, command: str) -> None:
    """``label command`` on one line where it fits, else the command on a line of its own:
    a path or command is never broken, so that it can be copied whole."""
    line = f"{label} {command}"
    if console.is_terminal and len(line) > console.width:
        console.print(label)
        console.print(f"  {command}", soft_wrap=True)
    else:
        console.print(line, soft_wrap=True)


def counted(count: int, noun: str) -> str:
    """``1 seed``, ``2 seeds``: a count and its noun, plural unless the count is 1."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
