"""``basin best --front``: the candidates on the front of (objective, drift), as a table."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from search.core.console import say
from search.report.fitting import Column, print_fitted
from search.report.leaderboard import cell, short_names
from search.selection.choice import Choice
from search.selection.front import front
from search.spec.model import SweepSpec
from trainables.contract import DRIFT, STEP, VAL_LOSS


def print_front(choice: Choice, spec: SweepSpec, console: Console) -> None:
    """One row per candidate on the front, best objective first; the one handed on marked."""
    metric = spec.objective.metric
    on_front = front(choice.ranked)
    if not on_front:
        say(console, "front: no candidate measured its drift (the sweep file's "
                     "retention.enabled is false, or no trial has evaluated yet)")
        return
    title = escape(f"{spec.name}: the front of {metric} ({spec.objective.mode}) and drift, "
                   f"{len(on_front)} of {len(choice.ranked)} candidates")
    shown = [name for name in spec.space if name in choice.ranked[0].params]
    headers = ["trial", STEP, metric, *([VAL_LOSS] if metric != VAL_LOSS else []), DRIFT,
               *short_names(dict.fromkeys(shown)), ""]
    columns = [Column(header, "left" if header in ("trial", "") else "right")
               for header in headers]
    chosen = (choice.chosen.trial_id, choice.chosen.step) if choice.chosen else None
    rows = [[candidate.trial_id, str(candidate.step), cell(candidate.objective),
             *([cell(candidate.val_loss)] if metric != VAL_LOSS else []),
             cell(candidate.drift),
             *[cell(candidate.params.get(name), figure=False) for name in shown],
             "handed on" if (candidate.trial_id, candidate.step) == chosen else ""]
            for candidate in on_front]
    print_fitted(console, columns, rows, title)
    say(console, "[dim]drift: how far the checkpoint moved from the base model on general "
                 "inputs (0: not at all); on the front, no other candidate has both a better "
                 f"{metric} and less drift. selection: retentive chooses the least drift "
                 "within a tolerance of the best.[/dim]")
