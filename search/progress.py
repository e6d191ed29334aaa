"""Progress lines while a sweep runs: one per trial start, evaluation and end."""

from __future__ import annotations

import time

from ray.tune import Callback
from rich.console import Console
from rich.markup import escape

from search.console import make_console
from search.outcome import FAILED, PRUNED, trial_outcome
from search.stops import StopLedger
from trainables.reporting import OUTCOME


def format_params(config: dict) -> str:
    """Hyperparameters as a short ``name=value`` list (floats to 3 significant digits);
    nested dicts are spelled out inline."""
    return " ".join(
        format_params(value) if isinstance(value, dict)
        else f"{key}={value:.3g}" if isinstance(value, float) else f"{key}={value}"
        for key, value in sorted(config.items())
    )


class ProgressPrinter(Callback):
    """Prints what happens to every trial, so a long sweep never looks stuck."""

    def __init__(self, objective: str, num_trials: int, ledger: StopLedger | None = None,
                 quiet: bool = False, console: Console | None = None):
        self.objective = objective
        self.num_trials = num_trials
        self.ledger = ledger or StopLedger()
        self.quiet = quiet
        self.console = console or make_console()
        self._started = time.monotonic()
        self._finished = 0

    def __getstate__(self) -> dict:
        # Ray pickles callbacks with the experiment state; a Console holds a lock.
        return {**self.__dict__, "console": None}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.console = make_console()

    def _say(self, message: str) -> None:
        if not self.quiet:
            elapsed = time.monotonic() - self._started
            self.console.print(f"[dim]{elapsed:7.0f}s[/dim] {message}")

    def on_trial_start(self, iteration, trials, trial, **info) -> None:
        self._say(f"[bold]{trial.trial_id}[/bold] started  {format_params(trial.config)}")

    def on_trial_result(self, iteration, trials, trial, result, **info) -> None:
        if OUTCOME in result:
            return  # said when the trial ends
        if "val_loss" not in result:
            return
        self._say(
            f"{trial.trial_id} step {result['step']:>5}  val_loss {result['val_loss']:.4f}  "
            f"train_loss {result['train_eval_loss']:.4f}  gap {result['gap']:+.4f}  "
            f"best {self.objective} {result['best_objective']:.4f}"
        )

    def on_trial_complete(self, iteration, trials, trial, **info) -> None:
        self._ended(trial, error=False)

    def on_trial_error(self, iteration, trials, trial, **info) -> None:
        self._ended(trial, error=True)

    def _ended(self, trial, error: bool) -> None:
        self._finished += 1
        outcome = trial_outcome(trial.last_result, error, self.ledger.decision(trial.trial_id))
        where = f" at step {outcome.step}" if outcome.step is not None else ""
        reason = f": {escape(outcome.reason)}" if outcome.reason else ""
        colour = {FAILED: "red", PRUNED: "yellow"}.get(outcome.status, "default")
        self._say(f"{trial.trial_id} [{colour}]{outcome.label}[/{colour}]{where}{reason}  "
                  f"({self._finished}/{self.num_trials} done)")
