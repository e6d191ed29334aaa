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


def _report(printer: ProgressPrinter, trial_id: str, step: int, seconds: float,
            startup: float = 0.0) -> None:
    printer.on_trial_result(0, [], _Named(trial_id), {
        "step": step, "total_steps": 100, "val_loss": 0.6, "gap": 0.0, "train_eval_loss": 0.6,
        "best_objective": 0.6, "trial_started_at": 1000.0, "reported_at": 1000.0 + seconds,
        "startup_seconds": startup})


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
    # a used half its budget; the expectation (1.0, weighing as 3 trials) moves to 0.875: b,
    # c (not reported yet) and 3 queued, 5 x 87.5 steps less b's 20 trained: 417.5 x 2 s over 2
    # slots.
    assert printer.status().endswith("~6m58s left")


def test_before_any_trial_ends_the_estimate_expects_the_sweeps_share():
    # ASHA and the stopping rules end the average trial at 60% of its budget (the spec's
    # expectation): 2 running with 20 steps each and 4 queued, 6 x 60 - 40 = 320 steps x 2 s
    # over 2 slots; a trial past the share still counts the queued ones' at least.
    printer = ProgressPrinter("val_loss", 6, console=Console(file=io.StringIO(), width=200),
                              quiet=True, expected_share=0.6)
    for trial_id in ("a", "b"):
        printer.on_trial_start(0, [], _Named(trial_id))
        _report(printer, trial_id, 20, 40.0)
    assert printer.status().endswith("~5m20s left")
    _report(printer, "a", 100, 200.0)
    _report(printer, "b", 100, 200.0)  # both far past 60: the 4 queued's 240 steps remain
    assert printer.status().endswith("~4m00s left")


def test_a_trials_start_up_is_paid_once_not_spread_over_its_first_steps():
    # 10 steps in 40 s, 20 of them start-up: 2 s a step. Left: 2 x 90 steps and 1 queued of
    # 100 (280 x 2 s) and its start-up (20 s), over 2 slots; the start-up spread over the
    # steps (4 s a step) would have said 9m20s.
    printer = ProgressPrinter("val_loss", 3, console=Console(file=io.StringIO(), width=200),
                              quiet=True)
    for trial_id in ("a", "b"):
        printer.on_trial_start(0, [], _Named(trial_id))
        _report(printer, trial_id, 10, 40.0, startup=20.0)
    assert printer.status().endswith("~4m50s left")
