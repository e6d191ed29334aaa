"""The terminal console basin prints to."""

from __future__ import annotations

from rich.console import Console


def make_console() -> Console:
    """A console that keeps a leaderboard row on one line even when output goes to a file."""
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=160)
    return console
