"""Every table basin prints reads whole at 80 and at 100 columns: no line wider than the
terminal, no cell cut short (…) or folded, every id and number whole on one line; a table too
wide for the terminal is printed as several, each keyed by its first column(s)."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import pytest
from rich.console import Console

from search.core.outcome import COMPLETED, PRUNED, STOPPED, Outcome
from search.core.record import TrialRecord
from search.lifecycle.check import CheckReport, print_check
from search.lifecycle.confirm import Confirmed, print_confirmed
from search.report.fitting import Column, fitted_tables, print_fitted
from search.report.front_table import print_front
from search.report.results import leaderboard
from search.report.run_list import print_runs
from search.report.status import print_status
from search.selection import ObjectiveCriterion
from search.selection.choice import choose
from search.spec.model import load_spec
from search.store.rundir import RunDir
from trainables.check.settings import CheckSettings

WIDTHS = [80, 100]
SPACE = {"learning_rate": {"type": "float", "low": 3e-4, "high": 1e-2, "log": True},
         "weight_decay": {"type": "float", "low": 0.0, "high": 0.1},
         "lora_dropout": {"type": "float", "low": 0.0, "high": 0.3},
         "lora_r": {"type": "choice", "values": [4, 8, 16, 32]},
         "lora_alpha": {"type": "choice", "values": [8, 16, 32]},
         "warmup_ratio": {"type": "float", "low": 0.0, "high": 0.1},
         "hidden_dropout": {"type": "float", "low": 0.0, "high": 0.3}}
# Tokens that must come out whole: trial ids and numbers as basin formats them.
TOKEN = re.compile(r"[0-9a-f]{8}\b|[-+]?\d+\.\d+(?:e[-+]?\d+)?")


def terminal(width: int) -> tuple[Console, io.StringIO]:
    """A terminal of that width, no colours (plain text)."""
    out = io.StringIO()
    return Console(file=out, width=width, highlight=False, soft_wrap=True, force_terminal=True,
                   color_system=None), out


def assert_whole(printed: str, width: int, expected: list[str]) -> None:
    lines = printed.splitlines()
    # A command or a path longer than the terminal has a line of its own, to be copied whole.
    assert all(len(line) <= width or len(line.split()) == 1 or line.strip().startswith("basin ")
               for line in lines), printed
    assert "…" not in printed, printed
    for token in expected:  # each on one line, never split across two
        assert any(token in line for line in lines), (token, printed)


def _record(trial_id: str, outcome: Outcome, lr: float, losses: list[float]) -> TrialRecord:
    steps = [15 * (i + 1) for i in range(len(losses))]
    return TrialRecord(
        trial_id, outcome,
        {"learning_rate": lr, "weight_decay": 0.05288949197529045, "lora_dropout": 0.000123456,
         "lora_r": 16, "lora_alpha": 32, "warmup_ratio": 0.0123456, "hidden_dropout": 0.1234567},
        [{"step": s, "val_loss": v, "val_loss_se": 0.01, "train_eval_loss": v - 0.1234567,
          "gap": 0.1234567, "val_distinct_predictions": 2, "val_accuracy": 0.7734375,
          "drift": 0.0123 * (i + 1)} for i, (s, v) in enumerate(zip(steps, losses))],
        {s: f"/ckpt/{trial_id}/{s}" for s in steps})


RECORDS = [
    _record("38b85c46", Outcome(STOPPED, "gap", "overfitting: ...", 75), 0.004817508474772369,
            [0.70, 0.61, 0.5729, 0.71, 0.75]),
    _record("a5d408da", Outcome(PRUNED, "not-learning", "not learning: ...", 60),
            0.000349123456, [0.69, 0.68, 0.6123456, 0.65]),
    _record("f52361dd", Outcome(COMPLETED, "budget", "trained its whole budget", 120),
            0.00075123456, [0.69 - 0.01 * i for i in range(8)]),
]
IDS = ["38b85c46", "a5d408da", "f52361dd"]


@pytest.mark.parametrize("width", WIDTHS)
def test_a_table_too_wide_is_split_keyed_by_its_first_columns(width) -> None:
    columns = [Column("rank"), Column("trial", "left"),
               *[Column(f"figure_{i}") for i in range(14)], Column("note", "left", wrap=True)]
    rows = [[str(r), f"{r:08x}", *[f"{0.1234 * (r + i):.4f}" for i in range(14)],
             "a note of several words that may wrap"] for r in range(1, 4)]
    console, out = terminal(width)
    tables = fitted_tables(columns, rows, console, title="wide", keys=2)
    assert len(tables) > 1
    assert all([c.header for c in t.columns][:2] == ["rank", "trial"] for t in tables)
    # Every other column once, in order, across the tables.
    assert [c.header for t in tables for c in t.columns[2:]] == [c.header for c in columns[2:]]
    print_fitted(console, columns, rows, title="wide", keys=2)
    assert_whole(out.getvalue(), width, [cell for row in rows for cell in row[:-1]])


@pytest.mark.parametrize("width", WIDTHS)
def test_the_leaderboard_and_the_front(sweep_factory, width) -> None:
    spec = load_spec(sweep_factory(space=SPACE))
    choice = choose(RECORDS, ObjectiveCriterion(), "val_loss", "min")
    console, out = terminal(width)
    leaderboard(RECORDS, choice, spec, console)
    print_front(choice, spec, console)
    printed = out.getvalue()
    assert_whole(printed, width, [*IDS, "0.5729", "0.6123", "0.6200", "+0.1235", "0.00482",
                                  "0.000349", "0.7734", "0.0369", "0.0123"])
    assert "handed on" in printed


@pytest.mark.parametrize("width", WIDTHS)
def test_the_check_and_confirm_tables(sweep_factory, width) -> None:
    run = SimpleNamespace(spec=load_spec(sweep_factory(space=SPACE)))
    entries = [{"trial_id": trial_id, "step": 45, "objective": 0.5729 + i / 100,
                "val_loss": 0.5731 + i / 100, "increase": {4.0: 0.0123, 16.0: 0.1234},
                "basin_radius": 12.5, "seed_sd": 0.0069} for i, trial_id in enumerate(IDS)]
    confirmed = [Confirmed(trial_id, 45, RECORDS[0].params, 0.5729, [1, 2, 3],
                           [0.6012 + i / 100, 0.6134, 0.5987], {"test_accuracy": [0.71, 0.72, 0.73]})
                 for i, trial_id in enumerate(IDS)]
    console, out = terminal(width)
    print_check(CheckReport(CheckSettings(), entries, 12.0), run, console)
    print_confirmed(confirmed, run, console)
    assert_whole(out.getvalue(), width, [*IDS, "0.5729", "0.5731", "0.0123", "0.1234", "12.5",
                                         "0.0069", "0.6012", "0.6134", "0.5987", "0.7200"])


@pytest.mark.parametrize("width", WIDTHS)
def test_ls_and_status(sweep_factory, tmp_path, width) -> None:
    spec = load_spec(sweep_factory(space=SPACE))
    run = RunDir.create(spec)
    console, out = terminal(width)
    print_runs(run.path.parent, console)
    print_status(run, console)
    printed = out.getvalue()
    assert_whole(printed, width, [run.path.name])
    assert "interrupted" in printed
