"""The live status line: one line at any terminal width, the estimate kept where it fits."""

from __future__ import annotations

import io

from rich.console import Console

from search.tune.progress import ProgressPrinter


def _printer(width: int) -> ProgressPrinter:
    console = Console(file=io.StringIO(), width=width)
    printer = ProgressPrinter("val_loss", 10, console=console, after="then check 5")
    printer._finished, printer._ended_here = 6, 6
    printer._running = {"a1b2c3d4", "e5f6a7b8"}
    printer._best = (0.5729, "38b85c46")
    return printer


def _rendered(printer: ProgressPrinter) -> list[str]:
    printer.console.print(printer._status_line())
    return printer.console.file.getvalue().rstrip("\n").split("\n")


def test_a_wide_terminal_gets_the_whole_status():
    lines = _rendered(_printer(200))
    assert len(lines) == 1
    assert lines[0].startswith("basin: 6/10 done, 2 running, 2 queued, best val_loss 0.5729 "
                               "(38b85c46), ")
    assert lines[0].endswith("left, then check 5")


def test_80_columns_get_one_line_with_the_estimate():
    lines = _rendered(_printer(80))
    assert len(lines) == 1 and len(lines[0]) <= 80, lines
    assert lines[0].startswith("basin: 6/10 done 2 run 2 queued best 0.5729 ")
    assert " left then check 5" in lines[0]


def test_a_very_narrow_terminal_still_gets_one_line():
    lines = _rendered(_printer(40))
    assert len(lines) == 1 and len(lines[0]) <= 40 and lines[0].endswith("…"), lines


class _Trial:
    trial_id = "38b85c46"
    config: dict = {}


def test_an_evaluation_is_one_line_at_80_columns():
    printer = _printer(80)
    printer.on_trial_result(0, [], _Trial(), {"step": 120, "val_loss": 0.57291, "gap": 0.0717,
                                              "train_eval_loss": 0.50121,
                                              "best_objective": 0.5729})
    line = printer.console.file.getvalue().rstrip("\n")
    assert "\n" not in line and len(line) <= 80, line
    assert "38b85c46 step 120 val 0.5729 train 0.5012 gap +0.0717 best 0.5729" in line


class _Named:
    def __init__(self, trial_id: str):
        self.trial_id, self.config, self.last_result = trial_id, {}, {}


def _report(printer: ProgressPrinter, trial_id: str, step: int, seconds: float) -> None:
    printer.on_trial_result(0, [], _Named(trial_id), {
        "step": step, "total_steps": 100, "val_loss": 0.6, "gap": 0.0, "train_eval_loss": 0.6,
        "best_objective": 0.6, "trial_started_at": 1000.0, "reported_at": 1000.0 + seconds})


def test_the_estimate_comes_from_the_measured_pace_and_the_share_trials_use():
    printer = ProgressPrinter("val_loss", 6, console=Console(file=io.StringIO(), width=200),
                              quiet=True)
    assert "left" not in printer.status()  # nothing measured, nothing ended: no guess
    for trial_id in ("a", "b"):
        printer.on_trial_start(0, [], _Named(trial_id))
    _report(printer, "a", 50, 100.0)  # 2 s a step, all in
    _report(printer, "b", 20, 40.0)
    # a: 50 steps left, b: 80, and 4 queued trials of 100: 530 steps x 2 s over 2 slots.
    assert printer.status().endswith("~8m50s left")
    _report(printer, "a", 50, 100.0)
    printer._ended(_Named("a"), error=False)  # stopped at half its budget
    printer.on_trial_start(0, [], _Named("c"))
    # b: 80 left, c: 100 (not reported yet), 3 queued using half their budget (150): 330 x 2
    # s over 2 slots.
    assert printer.status().endswith("~5m30s left")
