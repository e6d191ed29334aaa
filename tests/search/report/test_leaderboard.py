"""The printed leaderboard reads cleanly at 100 columns: no id or number split, one line per
row, reasons as notes under the table; too many columns make two tables, never folded cells."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from search.core.outcome import COMPLETED, PRUNED, STOPPED, Outcome
from search.core.record import TrialRecord
from search.report.results import leaderboard, leaderboard_rows
from search.selection import ObjectiveCriterion
from search.selection.choice import choose
from search.spec.model import load_spec

SPACE = {"learning_rate": {"type": "float", "low": 3e-4, "high": 1e-2, "log": True},
         "weight_decay": {"type": "float", "low": 0.0, "high": 0.1},
         "lora_dropout": {"type": "float", "low": 0.0, "high": 0.3},
         "lora_r": {"type": "choice", "values": [4, 8, 16, 32]},
         "lora_alpha": {"type": "choice", "values": [8, 16, 32]}}
GAP_REASON = ("overfitting: val_loss rose from 0.5729 (step 45) to 0.7514 while train_loss fell "
              "from 0.4991 to 0.3788, gap 0.37, for 2 evals")


def _record(trial_id: str, outcome: Outcome, lr: float, losses: list[float]) -> TrialRecord:
    steps = [15 * (i + 1) for i in range(len(losses))]
    return TrialRecord(
        trial_id, outcome,
        {"learning_rate": lr, "weight_decay": 0.05288949197529045,
         "lora_dropout": 0.000123456789, "lora_r": 16, "lora_alpha": 32,
         "warmup_ratio": 0.0123456, "hidden_dropout": 0.1234567},
        [{"step": s, "val_loss": v, "val_loss_se": 0.01, "train_eval_loss": v - 0.1234567,
          "gap": 0.1234567, "val_distinct_predictions": 2} for s, v in zip(steps, losses)],
        {s: f"/ckpt/{trial_id}/{s}" for s in steps})


RECORDS = [
    _record("38b85c46", Outcome(STOPPED, "gap", GAP_REASON, 75), 0.004817508474772369,
            [0.70, 0.61, 0.5729, 0.71, 0.75]),
    _record("a5d408da", Outcome(PRUNED, "asha", "below its rung's cut-off", 60),
            0.000349123456, [0.69, 0.68, 0.6123456, 0.65]),
    _record("f52361dd", Outcome(COMPLETED, "budget", "trained its whole budget", 120),
            0.00075123456, [0.69 - 0.01 * i for i in range(8)]),
]


def _printed(spec, width: int, records=RECORDS) -> str:
    out = io.StringIO()
    # A terminal of that width (no colours, so the text is plain).
    console = Console(file=out, width=width, highlight=False, soft_wrap=True,
                      force_terminal=True, color_system=None)
    choice = choose(records, ObjectiveCriterion(), "val_loss", "min")
    leaderboard(records, choice, spec, console)
    return out.getvalue()


@pytest.mark.parametrize("extra", [{}, {
    "warmup_ratio": {"type": "float", "low": 0.0, "high": 0.1},
    "hidden_dropout": {"type": "float", "low": 0.0, "high": 0.3}}])
def test_at_100_columns_no_id_or_number_is_split_and_rows_take_one_line(sweep_factory, extra):
    spec = load_spec(sweep_factory(space={**SPACE, **extra}))
    printed = _printed(spec, 100)
    lines = printed.splitlines()
    assert all(len(line) <= 100 for line in lines), printed
    assert "…" not in printed, printed  # nothing cut short
    columns, rows = leaderboard_rows(RECORDS, choose(RECORDS, ObjectiveCriterion(), "val_loss",
                                                     "min"), spec)
    for trial_id in ("38b85c46", "a5d408da", "f52361dd"):
        row_lines = [line for line in lines if line.startswith(trial_id + " ")]
        # One line per table the row is in (two when the table is split) plus its note.
        assert 1 <= len(row_lines) <= 3, printed
    table_lines = [line for line in lines if re.match(r"^[0-9a-f]{8} +[-+0-9.]", line)]
    for row in rows:
        for name, value in zip(columns, row):
            if isinstance(value, float) and name in ("val_loss", "gap"):
                shown = f"{value:+.4f}" if name == "gap" else f"{value:.4f}"
                assert any(shown in line for line in table_lines), (shown, printed)
    assert "0.00482" in printed and "0.000349" in printed  # hyperparameters: 3 digits, whole
    assert "stopped: gap" in printed and "pruned: asha" in printed
    if extra:  # 7 hyperparameters do not fit beside the figures: two tables, keyed by trial
        assert sum(line.startswith("trial ") for line in lines) == 2, printed
    else:
        assert sum(line.startswith("trial ") for line in lines) == 1, printed


def test_reasons_follow_the_table_and_say_which_columns_are_at_the_chosen_step(sweep_factory):
    spec = load_spec(sweep_factory(space=SPACE))
    printed = " ".join(_printed(spec, 100).split())  # the notes wrap at 100 columns
    assert "at step, val_loss, train_loss, gap: at each trial's best-ranked checkpoint" in printed
    assert f"38b85c46 stopped: gap at step 75: {GAP_REASON}" in printed
    assert "a5d408da pruned: asha at step 60: below its rung's cut-off" in printed
    assert "f52361dd completed" not in printed  # completing needs no note


def test_a_trial_without_candidates_says_why(sweep_factory):
    spec = load_spec(sweep_factory(space=SPACE))
    collapsed = _record("0badc0de", Outcome(STOPPED, "gap", GAP_REASON, 30), 0.001, [0.69, 0.7])
    for row in collapsed.evaluations:
        row["val_distinct_predictions"] = 1
    printed = " ".join(_printed(spec, 100, RECORDS + [collapsed]).split())
    assert "0badc0de stopped: gap at step 30" in printed
    assert "no candidate checkpoint (collapsed to one output)" in printed
