"""The terminal console basin prints to."""

from __future__ import annotations

from rich.console import Console


def make_console() -> Console:
    """A console that keeps a leaderboard row on one line even when output goes to a file."""
    # soft_wrap: a printed path or command stays on one line, so it can be copied.
    console = Console(highlight=False, soft_wrap=True)
    if not console.is_terminal:
        console = Console(highlight=False, soft_wrap=True, width=160)
    return console
