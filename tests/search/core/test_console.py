"""Prose wraps at words on a terminal; a path or command is never broken (it is copied whole)."""

from __future__ import annotations

import io

from rich.console import Console

from search.core.console import say, say_command

COMMAND = "basin run runs/minilm-lora-demo-20261204-124229/best.yaml"


def terminal(width: int) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=width, color_system=None), out


def test_a_command_that_does_not_fit_beside_its_label_gets_a_line_of_its_own():
    console, out = terminal(70)
    say_command(console, "re-train it with:", COMMAND)
    assert out.getvalue().splitlines() == ["re-train it with:", f"  {COMMAND}"]


def test_a_command_that_fits_stays_beside_its_label_and_a_log_gets_one_line():
    console, out = terminal(100)
    say_command(console, "re-train it with:", COMMAND)
    logged = io.StringIO()
    say_command(Console(file=logged, width=40), "re-train it with:", COMMAND)  # not a terminal
    assert out.getvalue() == logged.getvalue() == f"re-train it with: {COMMAND}\n"


def test_prose_wraps_at_words_within_the_width():
    console, out = terminal(80)
    say(console, f"basin: sweep minilm-lora-demo, 10 trials, run directory {COMMAND[10:]}")
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and all(len(line) <= 80 for line in lines)
    assert lines[1] == COMMAND[10:]  # broken at the space before the path, not inside it
