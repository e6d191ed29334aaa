"""Progress lines while a sweep runs: one per trial start, evaluation and end."""

from __future__ import annotations

import time

from ray.tune import Callback
from rich.console import Console

from search.console import make_console


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

    def __init__(self, objective: str, num_trials: int, quiet: bool = False,
                 console: Console | None = None):
        self.objective = objective
        self.num_trials = num_trials
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
        if "outcome" in result:
            self._say(f"[red]{trial.trial_id} {result['outcome']}[/red]: "
                      f"{result.get('outcome_reason', '')}")
            return
        if "val_loss" not in result:
            return
        self._say(
            f"{trial.trial_id} step {result['step']:>5}  val_loss {result['val_loss']:.4f}  "
            f"train_loss {result['train_eval_loss']:.4f}  gap {result['gap']:+.4f}  "
            f"best {self.objective} {result['best_objective']:.4f}"
        )

    def on_trial_complete(self, iteration, trials, trial, **info) -> None:
        self._finished += 1
        step = trial.last_result.get("step", "?")
        done = f"{self._finished}/{self.num_trials} done"
        self._say(f"{trial.trial_id} ended at step {step}  ({done})")

    def on_trial_error(self, iteration, trials, trial, **info) -> None:
        self._finished += 1
        self._say(f"[red]{trial.trial_id} failed[/red]: see {trial.path}/error.txt")
