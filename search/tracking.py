"""Weights & Biases: one run per trial, grouped by sweep, plus one run for the sweep itself.

The trial runs are written by the driver from rank 0's reports (only rank 0's report reaches
Tune, so there is never a run per DeepSpeed worker). The driver is where a trial's fate is
known: the gap stopper and the scheduler decide there, and an offline run cannot be reopened
later to add why it stopped. W&B's system-metrics sampler is therefore off: it would measure the
driver's machine, not the trial's.

Without an API key basin runs offline, says so once, and prints the ``wandb sync`` command.
W&B trouble never fails a sweep: every call is guarded and turns tracking off with a warning.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

from ray.tune import Callback
from rich.console import Console

from search.spec import WandbSpec
from search.stops import StopLedger, trial_outcome
from trainables.metrics import TRAIN_LOSS_CURVE

logger = logging.getLogger(__name__)

# Logged at every evaluation, under the name shown in W&B.
EVAL_METRICS = {
    "train_eval_loss": "eval/train_loss",
    "val_loss": "eval/val_loss",
    "val_accuracy": "eval/val_accuracy",
    "train_eval_accuracy": "eval/train_accuracy",
    "gap": "eval/gap",
    "learning_rate": "train/learning_rate",
    "samples_per_second": "perf/samples_per_second",
    "tokens_per_second": "perf/tokens_per_second",
    "startup_seconds": "perf/startup_seconds",
    "epoch": "train/epoch",
}


def run_id(group: str, suffix: str) -> str:
    """A stable W&B run id, so a resumed sweep continues the same runs instead of adding."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", f"{group}-{suffix}")[-64:]


def resolve_mode(requested: str) -> tuple[str, str | None]:
    """(mode to use, notice for the user). Online without an API key falls back to offline."""
    if requested != "online":
        return requested, None
    import wandb

    if os.environ.get("WANDB_API_KEY") or wandb.api.api_key:
        return "online", None
    return "offline", "no W&B API key (run `wandb login` or set WANDB_API_KEY)"


def sync_command(run_dir: Path) -> str:
    return f"wandb sync {run_dir / 'wandb'}/offline-run-*"


class WandbTracker(Callback):
    """A Tune callback that mirrors every trial into its own W&B run."""

    def __init__(self, settings: WandbSpec, run_dir: Path, group: str, fixed_config: dict,
                 objective: str, ledger: StopLedger, console: Console | None = None):
        self.settings = settings
        self.run_dir = run_dir
        self.group = group
        self.fixed_config = fixed_config
        self.objective = objective
        self.ledger = ledger
        self.console = console
        self.mode, notice = resolve_mode(settings.mode)
        self._runs: dict[str, Any] = {}
        self._notice = notice
        self._announced = False

    def __getstate__(self) -> dict:
        # Ray pickles callbacks with the experiment state; live runs and consoles stay behind.
        return {**self.__dict__, "_runs": {}, "console": None}

    # -- helpers -------------------------------------------------------------------------

    def announce(self) -> None:
        """Say once where runs go and, when offline, how to upload them."""
        if self._announced or self.mode == "disabled" or self.console is None:
            return
        self._announced = True
        if self.mode == "offline":
            why = f"{self._notice}; " if self._notice else ""
            self.console.print(
                f"W&B: offline ({why}runs are written to {self.run_dir / 'wandb'}); "
                f"upload them later with: {sync_command(self.run_dir)}")
        else:
            self.console.print(f"W&B: logging online to project {self.settings.project}")

    def _init(self, **kwargs: Any) -> Any:
        import wandb

        # W&B ignores (and warns about) `resume` offline; online it continues the same run.
        resume = {"resume": "allow"} if self.mode == "online" else {}
        return wandb.init(
            project=self.settings.project, entity=self.settings.entity, group=self.group,
            mode=self.mode, dir=str(self.run_dir), reinit="create_new",
            # A short init timeout: an unreachable server costs 15 s once, then basin goes offline.
            settings=wandb.Settings(silent=True, x_disable_stats=True, init_timeout=15,
                                    console="off"),
            **resume, **kwargs,
        )

    def _init_or_go_offline(self, **kwargs: Any) -> Any:
        """Start a run; if W&B cannot be reached online, say so once and write offline."""
        try:
            return self._init(**kwargs)
        except Exception as error:
            if self.mode != "online":
                raise
            reason = str(error).splitlines()[0]
            self.mode, self._announced = "offline", False
            self._notice = f"W&B unreachable: {reason}"
            self.announce()
            if not self._runs:
                import wandb

                # W&B keeps the failed run's id registered; with no live run to lose, reset it.
                wandb.teardown()
            return self._init(**kwargs)

    def _guarded(self, action: str, function: Any, *args: Any) -> None:
        if self.mode == "disabled":
            return
        try:
            function(*args)
        except Exception as error:  # W&B must never fail a sweep
            logger.warning("W&B %s failed (%s); tracking turned off", action, error)
            if self.console is not None:
                self.console.print(f"[yellow]W&B {action} failed ({error}); "
                                   "tracking turned off[/yellow]")
            self.mode = "disabled"

    # -- Tune callback hooks --------------------------------------------------------------

    def setup(self, **info: Any) -> None:
        self.announce()

    def on_trial_start(self, iteration, trials, trial, **info) -> None:
        self._guarded("init", self._start, trial)

    def _start(self, trial: Any) -> None:
        if trial.trial_id in self._runs:
            return
        self._runs[trial.trial_id] = self._init_or_go_offline(
            id=run_id(self.group, trial.trial_id), name=f"trial-{trial.trial_id}",
            job_type="trial", tags=list(self.settings.tags),
            config={"hyperparameters": dict(trial.config), "sweep": self.fixed_config,
                    "trial_id": trial.trial_id},
        )

    def on_trial_result(self, iteration, trials, trial, result, **info) -> None:
        self._guarded("log", self._log, trial, result)

    def _log(self, trial: Any, result: dict) -> None:
        run = self._runs.get(trial.trial_id)
        if run is None or "step" not in result or "outcome" in result:
            return
        step = int(result["step"])
        for curve_step, loss in result.get(TRAIN_LOSS_CURVE) or []:
            if int(curve_step) < step:
                run.log({"train/loss": loss}, step=int(curve_step))
        row = {name: result[key] for key, name in EVAL_METRICS.items() if key in result}
        curve = result.get(TRAIN_LOSS_CURVE) or []
        if curve and int(curve[-1][0]) == step:
            row["train/loss"] = curve[-1][1]
        run.log(row, step=step)

    def on_trial_complete(self, iteration, trials, trial, **info) -> None:
        self._guarded("finish", self._finish, trial, False)

    def on_trial_error(self, iteration, trials, trial, **info) -> None:
        self._guarded("finish", self._finish, trial, True)

    def _finish(self, trial: Any, error: bool) -> None:
        run = self._runs.pop(trial.trial_id, None)
        if run is None:
            return
        result = trial.last_result or {}
        status, reason = trial_outcome(result, error, self.ledger.reason(trial.trial_id))
        run.summary.update({
            "best_objective": result.get("best_objective"),
            "objective": self.objective,
            "best_step": result.get("best_step"),
            "last_step": result.get("step"),
            "final_status": status,
            "stop_reason": reason,
        })
        run.tags = tuple(run.tags) + (status,)
        run.finish(exit_code=1 if error else 0)

    def on_experiment_end(self, trials, **info) -> None:
        for trial_id in list(self._runs):
            self._guarded("finish", self._runs.pop(trial_id).finish)

    # -- the sweep's own run --------------------------------------------------------------

    def log_sweep(self, columns: list[str], rows: list[list[Any]], best: dict | None,
                  plots: list[Path] = ()) -> None:
        """The run of job type ``sweep``: the leaderboard table, the winner and any plots."""
        self._guarded("sweep run", self._log_sweep, columns, rows, best, list(plots))

    def _log_sweep(self, columns: list[str], rows: list[list[Any]], best: dict | None,
                   plots: list[Path]) -> None:
        import wandb

        run = self._init_or_go_offline(id=run_id(self.group, "sweep"), name=self.group,
                                       job_type="sweep",
                         tags=list(self.settings.tags), config={"sweep": self.fixed_config})
        payload: dict[str, Any] = {"leaderboard": wandb.Table(columns=columns, data=rows)}
        payload.update({f"plots/{p.stem}": wandb.Image(str(p)) for p in plots})
        run.log(payload)
        run.summary.update({"best_trial": best["trial_id"] if best else None,
                            "best_config": best["params"] if best else None,
                            "best_objective": best["best_objective"] if best else None,
                            "trials": len(rows)})
        run.finish()
