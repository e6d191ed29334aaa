"""Progress while a sweep runs: a line per trial start, evaluation and end (the end with its
reason), and a live status line on a terminal: done, running, queued, the best so far, elapsed
time and an estimate of what is left. Where the output is not a terminal (CI, ``ray job
submit``, a log file) the same facts go on each trial's end line instead."""

from __future__ import annotations

import statistics
import time
from typing import Any, Callable

from ray.tune import Callback
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.text import Text

from search.core.console import make_console, say
from search.core.outcome import FAILED, PRUNED, trial_outcome
from search.report.leaderboard import format_params, short_names
from search.store.freeze_ledger import FreezeLedger
from search.store.rundir import trial_id_of
from search.store.stop_ledger import StopLedger
from trainables.contract import (
    BEST_OBJECTIVE,
    OUTCOME,
    STARTUP_SECONDS,
    STEP,
    TOTAL_STEPS,
    VAL_LOSS,
    finite,
)

# How many ended trials the sweep's expected share weighs as, in the estimate of what is left.
PRIOR_TRIALS = 3


def duration(seconds: float) -> str:
    """``45s``, ``3m05s``, ``1h02m``."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class ProgressPrinter(Callback):
    """Prints what happens to every trial, so a long sweep never looks stuck, and keeps a live
    status line under those lines on a terminal. ``name_of`` names a trial (default: its id)."""

    def __init__(self, objective: str, num_trials: int, ledger: StopLedger | None = None,
                 quiet: bool = False, console: Console | None = None, mode: str = "min",
                 name_of: Callable[[Any], str] = trial_id_of,
                 freezes: FreezeLedger | None = None, after: str | None = None,
                 expected_share: float = 1.0):
        self.objective = objective
        # The share of its budget the average trial is expected to train (ASHA's cuts and the
        # stopping rules': search/spec/estimate.py), until ended trials say better.
        self.expected_share = expected_share
        self.after = after  # what follows the trials, e.g. "then check 5" (its time unknown)
        self.mode = mode
        self.num_trials = num_trials
        self.ledger = ledger or StopLedger()
        self.quiet = quiet
        self.name_of = name_of
        self.console = console or make_console()
        self._started = time.monotonic()
        self._finished = 0
        self._ended_here = 0  # by this driver: the pace of the estimate
        self._running: set[str] = set()
        # Each reporting trial's last step, its budget, its seconds a step (evaluations
        # included) and its start-up's seconds, which a trial pays once, so that a young
        # trial's pace does not carry it over a few steps; each ended trial's share of its
        # budget.
        self._paces: dict[str, tuple[int, int, float, float]] = {}
        self._shares: list[float] = []
        self._best: tuple[float, str] | None = None  # (objective, trial name)
        self._live: Live | None = None
        self.freezes = freezes  # a freezing scheduler's pauses and thaws
        self._frozen: set[str] = set()

    def __getstate__(self) -> dict:
        # Ray pickles callbacks with the experiment state; a Console and a Live hold locks.
        return {**self.__dict__, "console": None, "_live": None}

    def __setstate__(self, state: dict) -> None:
        # Restored by `basin resume`: the counts stand, the clock and the running set restart.
        # Compatibility (resuming a sweep that basin 0.1 started): a printer it pickled lacks
        # the newer fields. Remove in basin 0.3.
        self.__dict__.update({"mode": "min", "name_of": trial_id_of, "_best": None,
                              "_live": None, "freezes": None, "_frozen": set(), "_paces": {},
                              "_shares": [], "expected_share": 1.0, **state})
        self.console = make_console()
        self._started, self._ended_here, self._running = time.monotonic(), 0, set()

    # -- the status ----------------------------------------------------------------------

    def status(self, compact: bool = False) -> str:
        """``6/10 done, 2 running, 2 queued, best val_loss 0.5729 (38b85c46), 1m32s elapsed,
        ~1m10s left``; ``compact``: ``6/10 done 2 run 2 queued best 0.5729 1m32s ~1m10s
        left`` (for a narrow terminal)."""
        elapsed = time.monotonic() - self._started
        queued = max(0, self.num_trials - self._finished - len(self._running))
        queued = max(0, queued - len(self._frozen))
        parts = [f"{self._finished}/{self.num_trials} done",
                 f"{len(self._running)} {'run' if compact else 'running'}",
                 *([f"{len(self._frozen)} frozen"] if self._frozen else []), f"{queued} queued"]
        if self._best is not None:
            parts.append(f"best {self._best[0]:.4f}" if compact else
                         f"best {self.objective} {self._best[0]:.4f} ({self._best[1]})")
        parts.append(duration(elapsed) if compact else f"{duration(elapsed)} elapsed")
        left = self.num_trials - self._finished
        seconds = self._seconds_left(queued) if left else None
        if seconds is not None:
            parts.append(f"~{duration(seconds)} left")
        if self.after and left:
            parts.append(self.after)
        return (" " if compact else ", ").join(parts)

    def _seconds_left(self, queued: int) -> float | None:
        """What is left, from the measured pace: the trials not ended (running and queued),
        each expected to train its share of the budget, less the steps the running ones have
        trained (never less than the queued trials' share), at the measured seconds a step,
        and the queued trials' start-ups, spread over the running slots. The share is the
        sweep's expectation, moved toward what the ended trials used as they end (ASHA's first
        cuts end first, so the expectation weighs as PRIOR_TRIALS of them). Before any trial
        has reported: the ended trials' average, or None."""
        if not self._paces:
            if not self._ended_here:
                return None
            elapsed = time.monotonic() - self._started
            return elapsed / self._ended_here * (self.num_trials - self._finished)
        per_step = statistics.median(pace for _, _, pace, _ in self._paces.values())
        startup = statistics.median(startup for *_, startup in self._paces.values())
        budget = max(total for _, total, _, _ in self._paces.values())
        share = ((self.expected_share * PRIOR_TRIALS + sum(self._shares))
                 / (PRIOR_TRIALS + len(self._shares)))
        trained = sum(self._paces[t][0] for t in self._running if t in self._paces)
        steps = max(queued * share * budget,
                    (len(self._running) + queued) * share * budget - trained)
        return (steps * per_step + queued * startup) / max(1, len(self._running))

    def _status_line(self) -> Text:
        """One line at any width: the compact status where the full one would wrap, cut with
        an ellipsis where even that would."""
        line = f"basin: {self.status()}"
        if len(line) > self.console.width:
            line = f"basin: {self.status(compact=True)}"
        text = Text(line, style="bold", no_wrap=True, overflow="ellipsis")
        text.truncate(self.console.width, overflow="ellipsis")  # rich 15 wraps it otherwise
        return text

    def setup(self, **info) -> None:
        if self.console.is_terminal and not self.quiet:
            self._live = Live(get_renderable=self._status_line, console=self.console,
                              refresh_per_second=1, transient=True,
                              # stdout may go to the driver log meanwhile (driver_log.py)
                              redirect_stdout=False, redirect_stderr=False)
            self._live.start()

    def close(self) -> None:
        """Take the live status line down (the sweep ended, or was interrupted)."""
        if self._live is not None:
            self._live.stop()
            self._live = None

    def on_experiment_end(self, trials, **info) -> None:
        self.close()

    # -- the lines -----------------------------------------------------------------------

    def _say(self, message: str) -> None:
        if not self.quiet:
            elapsed = time.monotonic() - self._started
            say(self.console, f"[dim]{elapsed:7.0f}s[/dim] {message}")

    def on_trial_start(self, iteration, trials, trial, **info) -> None:
        self._running.add(trial.trial_id)
        if trial.trial_id in self._frozen:  # Ray starts a thawed trial again
            self._frozen.discard(trial.trial_id)
            self._say(f"[bold]{self.name_of(trial)}[/bold] thawed  (at step "
                      f"{(trial.last_result or {}).get(STEP, '?')})")
            return
        self._say(f"[bold]{self.name_of(trial)}[/bold] started  "
                  f"{format_params(short_names(trial.config))}")

    def on_trial_result(self, iteration, trials, trial, result, **info) -> None:
        if OUTCOME in result or VAL_LOSS not in result:
            return  # an outcome is said when the trial ends
        best = finite(result.get(BEST_OBJECTIVE))
        sign = 1 if self.mode == "min" else -1
        if best is not None and (self._best is None or sign * best < sign * self._best[0]):
            self._best = (best, self.name_of(trial))
        if self.console.width < 100:  # the same figures in ~70 columns: one line at 80
            self._say(f"{self.name_of(trial)} step {result['step']} val {result['val_loss']:.4f} "
                      f"train {result['train_eval_loss']:.4f} gap {result['gap']:+.4f} best "
                      f"{result['best_objective']:.4f}")
        else:
            self._say(f"{self.name_of(trial)} step {result['step']:>5}  val_loss "
                      f"{result['val_loss']:.4f}  train_loss {result['train_eval_loss']:.4f}  "
                      f"gap {result['gap']:+.4f}  best {self.objective} "
                      f"{result['best_objective']:.4f}")
        self._measure_pace(trial.trial_id, result)
        self._frozen_now(trial, result)

    def _measure_pace(self, trial_id: str, result: dict) -> None:
        step, total = result.get(STEP), result.get(TOTAL_STEPS)
        started, now = result.get("trial_started_at"), result.get("reported_at")
        startup = result.get(STARTUP_SECONDS)
        startup = startup if isinstance(startup, (int, float)) else 0.0
        if all(isinstance(v, (int, float)) for v in (step, total, started, now)) and step > 0:
            self._paces[trial_id] = (int(step), int(total),
                                     max(0.0, now - started - startup) / step, startup)

    def _frozen_now(self, trial, result: dict) -> None:
        """Say so when the scheduler has just frozen the trial at this step."""
        if self.freezes is None:
            return
        self.freezes.refresh()
        event = self.freezes.frozen().get(trial.trial_id)
        if event is not None and event.step == result.get(STEP):
            self._running.discard(trial.trial_id)
            self._frozen.add(trial.trial_id)
            self._say(f"{self.name_of(trial)} [cyan]frozen[/cyan] at step {event.step}: "
                      f"{escape(event.reason)}")

    def on_trial_complete(self, iteration, trials, trial, **info) -> None:
        self._ended(trial, error=False)

    def on_trial_error(self, iteration, trials, trial, **info) -> None:
        self._ended(trial, error=True)

    def _ended(self, trial, error: bool) -> None:
        self._finished += 1
        self._ended_here += 1
        self._running.discard(trial.trial_id)
        if trial.trial_id in self._paces:  # its pace still counts for the others
            step, total, *_ = self._paces[trial.trial_id]
            self._shares.append(min(1.0, step / max(1, total)))
        outcome = trial_outcome(trial.last_result, error, self.ledger.decision(trial.trial_id))
        colour = {FAILED: "red", PRUNED: "yellow"}.get(outcome.status, "default")
        # On a terminal the live line holds the counts; elsewhere they close each end line.
        counts = "" if self._live is not None else f"  ({escape(self.status())})"
        self._say(f"{self.name_of(trial)} [{colour}]{outcome.label}[/{colour}]"
                  f"{escape(outcome.details)}{counts}")
