"""The leaderboard as printed: one row per trial, whole at any width from 80 columns.

Numbers and ids never wrap (a folded ``0.000`` / ``9398`` reads as two values); the status is
short and each trial's reason follows the table as a note; a table wider than the terminal is
printed as several, each keyed by trial (``search/report/fitting.py``), rather than squeezed.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

from search.core.console import say
from search.core.outcome import COMPLETED, RUNNING
from search.core.record import TrialRecord
from search.report.fitting import Column, print_fitted
from search.selection.choice import Choice
from trainables.contract import GAP, STEP, TRAIN_EVAL_LOSS

# Hyperparameters by the names a table has room for.
SHORT_NAMES = {"learning_rate": "lr", "weight_decay": "wd", "lora_dropout": "dropout",
               "lora_r": "r", "lora_alpha": "alpha", "warmup_ratio": "warmup",
               "hidden_dropout": "hidden_dropout"}
# Figures by shorter names ("train_eval_loss" is the train loss measured like val_loss).
SHORT_FIGURES = {TRAIN_EVAL_LOSS: "train_loss", STEP: "at step", "last step": "last",
                 "val_accuracy": "val_acc", "val_exact_match": "exact_match"}
CAPTION = ("at step, {figures}: at each trial's best-ranked checkpoint (first row: the one "
           "handed on); last: its last evaluated step")


def short_name(name: str) -> str:
    """A hyperparameter's or figure's column name."""
    return SHORT_NAMES.get(name, SHORT_FIGURES.get(name, name))


def cell(value: Any, column: str = "", figure: bool = True) -> str:
    """One value as shown: a figure to 4 decimals (a gap with its sign; 4 significant digits
    from 1000 up), a hyperparameter to 3 significant digits, None as '-'."""
    if value is None:
        return "-"
    if isinstance(value, float):
        if not figure:
            return f"{value:.3g}"
        return f"{value:+.4f}" if column == GAP else f"{value:.4f}" if abs(value) < 1e3 \
            else f"{value:.4g}"
    return str(value)


def reasons(records: list[TrialRecord], choice: Choice) -> list[str]:
    """One note per trial that did not simply complete, or that has no candidate checkpoint."""
    no_candidate = {trial_id: kind for kind, ids in choice.excluded.items() for trial_id in ids}
    notes = []
    for record in records:
        outcome = record.outcome
        parts = []
        if outcome.status not in (COMPLETED, RUNNING) and outcome.reason:
            parts.append(f"{outcome.label}{outcome.details}")
        if record.frozen_at is not None:
            parts.append(f"frozen at step {record.frozen_at}: {record.freezes[-1]['reason']}")
        parts += [f"thawed at step {event['step']}" for event in record.thaws]
        if record.trial_id in no_candidate and not outcome.excluded:
            parts.append(f"no candidate checkpoint ({no_candidate[record.trial_id]})")
        if parts:
            notes.append(f"{record.trial_id} " + "; ".join(parts))
    return notes


def print_leaderboard(columns: list[str], rows: list[list], console: Console, title: str,
                      notes: list[str] = ()) -> None:
    """Print the leaderboard rows (``search.report.results.leaderboard_rows``), split into
    tables keyed by trial when one does not fit the console, then the notes."""
    shown = [short_name(c) for c in columns]
    first_figure = columns.index(STEP)
    text = [[cell(value, column, figure=index >= first_figure)
             for index, (value, column) in enumerate(zip(row, columns))] for row in rows]
    figures = ", ".join(shown[first_figure + 1:-2])
    caption = CAPTION.format(figures=figures)
    print_fitted(console, [Column(name, "left" if name == "trial" else "right")
                           if name != "status" else Column(name, "left", wrap=True)
                           for name in shown], text, escape(title))
    for line in (caption, *notes):  # wrapped at the console's width, words kept whole
        say(console, f"[dim]{escape(line)}[/dim]" if line is caption else escape(line))


def format_params(config: dict) -> str:
    """Hyperparameters as a short ``name=value`` list (floats to 3 significant digits);
    nested dicts are spelled out inline."""
    return " ".join(
        format_params(value) if isinstance(value, dict)
        else f"{key}={value:.3g}" if isinstance(value, float) else f"{key}={value}"
        for key, value in sorted(config.items())
    )


def short_names(config: dict) -> dict:
    """Hyperparameters by the leaderboard's column names (lr, wd, dropout, r, alpha)."""
    return {short_name(k): short_names(v) if isinstance(v, dict) else v
            for k, v in config.items()}
