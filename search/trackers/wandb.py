"""Weights & Biases: one run per trial, grouped by sweep, plus one run for the sweep itself.

The trial runs are written by the driver from rank 0's reports (only rank 0's report reaches
Tune, so there is never a run per DeepSpeed worker). The driver is where a trial's fate is
known: the stopping rules and the scheduler decide there, and an offline run cannot be reopened
later to add why it stopped. W&B's system-metrics sampler is therefore off: it would measure the
driver's machine, not the trial's.

Without an API key basin runs offline, says so once, and prints the ``wandb sync`` command.
W&B trouble never fails a sweep: every call is guarded and turns tracking off with a warning.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Literal

from rich.console import Console

from search.core.console import say
from search.core.layout import WANDB_FOLDER
from search.core.outcome import FAILED, ORPHANED, Outcome
from search.trackers.base import FREEZES, SweepSummary, Tracker, TrackerContext, TrackerSettings
from search.trackers.wandb_runs import (
    eval_metrics,
    resolve_mode,
    run_id,
    sync_command,
    write_through_own_service,
)
from trainables.contract import (
    BEST_OBJECTIVE,
    BEST_STEP,
    OUTCOME,
    STEP,
    TRAIN_LOSS_CURVE,
)

logger = logging.getLogger(__name__)
ERROR_REPORTING_ENV = "WANDB_ERROR_REPORTING"


class WandbSpec(TrackerSettings):
    """The sweep file's ``tracking.wandb`` block."""

    OFF = {"mode": "disabled"}

    project: str = "basin"
    entity: str | None = None
    mode: Literal["online", "offline", "disabled"] = "offline"
    tags: list[str] = []

    @property
    def enabled(self) -> bool:
        return self.mode != "disabled"

    def build(self, context: TrackerContext) -> Tracker:
        from search.trackers.background import BackgroundTracker

        # Written from a thread of its own: W&B's run files never hold up Tune's loop.
        return BackgroundTracker(WandbTracker(self, context))


class WandbTracker(Tracker):
    """Mirrors every trial into its own W&B run, and the sweep's summary into one more."""

    def __init__(self, settings: WandbSpec, context: TrackerContext):
        self.settings = settings
        self.job_type = context.job_type  # "trial", or "confirm" for basin confirm's
        self.run_dir = context.run_path
        self.group = context.group
        self.fixed_config = context.fixed_config
        self.objective = context.objective
        self.console: Console | None = context.console
        self._history = context.history
        # W&B's own error reports (Sentry: from this process, and from wandb-core unless it is
        # started with --no-observability) are traffic no sweep file asks for, even offline; read
        # when W&B first reports or starts its service, so before anything of W&B's runs here.
        # A user's own setting wins.
        os.environ.setdefault(ERROR_REPORTING_ENV, "false")
        self.mode, notice = resolve_mode(settings.mode)
        self._runs: dict[str, Any] = {}
        self._notice = notice
        self._announced = False
        write_through_own_service()

    def __getstate__(self) -> dict:
        # Ray pickles callbacks with the experiment state; live runs and consoles stay behind.
        return {**self.__dict__, "_runs": {}, "console": None}

    def announce(self) -> None:
        """Say once where runs go and, when offline, how to upload them."""
        if self._announced or self.mode == "disabled" or self.console is None:
            return
        self._announced = True
        if self.mode == "offline":
            why = f"{self._notice}; " if self._notice else ""
            # Prose wrapped at words; the command on a line of its own, to be copied.
            say(self.console, f"W&B: offline ({why}runs are written to "
                              f"{self.run_dir / WANDB_FOLDER}); upload them later with:")
            self.console.print(f"  {sync_command(self.run_dir)}")
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

    # -- the tracker's events ---------------------------------------------------------------

    def trial_started(self, trial_id: str, config: dict[str, Any]) -> None:
        self._guarded("init", self._start, trial_id, config)

    def _start(self, trial_id: str, config: dict[str, Any]) -> None:
        if trial_id in self._runs:
            return
        identity = run_id(self.group, trial_id)
        earlier = self._offline_runs(identity)
        self._runs[trial_id] = self._init_or_go_offline(
            id=identity, name=trial_id,
            job_type=self.job_type, tags=list(self.settings.tags),
            config={"hyperparameters": config, "sweep": self.fixed_config, "trial_id": trial_id},
        )
        if earlier and self.mode == "offline":
            self._supersede(trial_id, earlier)

    def _offline_runs(self, identity: str) -> list[Path]:
        return sorted((self.run_dir / WANDB_FOLDER).glob(f"offline-run-*-{identity}"))

    def _supersede(self, trial_id: str, earlier: list[Path]) -> None:
        """A trial restarted by ``basin resume`` keeps one W&B run. Online, W&B resumes it by
        id. Offline it cannot (wandb#2423), and of two offline runs with one id the one synced
        last replaces the other: the new run logs the trial's whole history again, and the
        earlier ones move to ``wandb/superseded/``, outside what ``wandb sync`` is told to
        upload."""
        for row in self._history(trial_id):
            self._log(trial_id, row)
        self._move_aside(earlier, "superseded")

    def _move_aside(self, folders: list[Path], into: str) -> None:
        """Move offline runs to ``wandb/<into>/``, outside what ``wandb sync`` is told to
        upload (``sync_command``: ``wandb/offline-run-*``)."""
        if not folders:
            return
        aside = self.run_dir / WANDB_FOLDER / into
        aside.mkdir(exist_ok=True)
        for folder in folders:
            folder.rename(aside / folder.name)

    def trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        self._guarded("log", self._log, trial_id, result)

    def _log(self, trial_id: str, result: dict) -> None:
        run = self._runs.get(trial_id)
        if run is None or STEP not in result or OUTCOME in result:
            return
        step = int(result[STEP])
        for curve_step, loss in result.get(TRAIN_LOSS_CURVE) or []:
            if int(curve_step) < step:
                run.log({"train/loss": loss}, step=int(curve_step))
        # Computed here, not kept: a tracker pickled by an older basin has no such attribute.
        logged = eval_metrics(self.fixed_config.get("model", {}).get("task"))
        row = {name: result[key] for key, name in logged.items() if key in result}
        curve = result.get(TRAIN_LOSS_CURVE) or []
        if curve and int(curve[-1][0]) == step:
            row["train/loss"] = curve[-1][1]
        run.log(row, step=step)

    def trial_ended(self, trial_id: str, outcome: Outcome, last_result: dict[str, Any]) -> None:
        self._guarded("finish", self._finish, trial_id, outcome, last_result)

    def _finish(self, trial_id: str, outcome: Outcome, result: dict[str, Any]) -> None:
        run = self._runs.pop(trial_id, None)
        if run is None:
            return
        run.summary.update({
            BEST_OBJECTIVE: result.get(BEST_OBJECTIVE),
            "objective": self.objective,
            BEST_STEP: result.get(BEST_STEP),
            "last_step": result.get(STEP),
            # The outcome's fields, as in the stop ledger, the Optuna study and results.json.
            "final_status": outcome.status,
            "stop_kind": outcome.kind,
            "stop_reason": outcome.reason,
            "stop_step": outcome.step,
            # A freezing scheduler's pauses and thaws of the trial (none under ASHA).
            "freezes": result.get(FREEZES) or [],
        })
        run.tags = tuple(run.tags) + (outcome.status,)
        run.finish(exit_code=1 if outcome.status == FAILED else 0)

    def trial_checked(self, trial_id: str, config: dict[str, Any], outcome: Outcome,
                      last_result: dict[str, Any], figures: dict[str, Any]) -> None:
        self._guarded("check", self._checked, trial_id, config, outcome, last_result, figures)

    def _checked(self, trial_id: str, config: dict[str, Any], outcome: Outcome,
                 result: dict[str, Any], figures: dict[str, Any]) -> None:
        """The ended trial's run once more, its summary with the check's figures: online W&B
        resumes the run by id; offline, a new run with the trial's history supersedes it
        (``_supersede``)."""
        self._start(trial_id, config)
        self._runs[trial_id].summary.update({"check": figures})
        self._finish(trial_id, outcome, result)

    def close(self) -> None:
        for trial_id in list(self._runs):
            self._guarded("finish", self._runs.pop(trial_id).finish)

    def closing_note(self) -> str | None:
        if self.mode != "offline":
            return None
        return f"W&B runs are offline; upload them with:\n  {sync_command(self.run_dir)}"

    def _set_aside(self, orphan: str) -> None:
        """A trial the driver started in its last moment, before Ray recorded it, left a run
        that no trial of the sweep continues (its configuration runs again under a new trial).
        Offline, the run moves to ``wandb/orphaned/``, outside what ``wandb sync`` uploads;
        online it cannot be taken back, so it ends failed, tagged ``orphaned``."""
        identity = run_id(self.group, orphan)
        if self.mode == "offline":
            self._move_aside(self._offline_runs(identity), "orphaned")
            return
        run = self._init_or_go_offline(id=identity, name=orphan, job_type=self.job_type,
                                       tags=[*self.settings.tags, ORPHANED])
        run.summary.update({"final_status": FAILED, "stop_kind": ORPHANED})
        run.finish(exit_code=1)

    # -- the sweep's own run --------------------------------------------------------------

    def sweep_ended(self, summary: SweepSummary) -> None:
        """The run of job type ``sweep``: the leaderboard table, the choice and the plots."""
        self._guarded("sweep run", self._log_sweep, summary)

    def _log_sweep(self, summary: SweepSummary) -> None:
        import wandb

        for trial_id in summary.orphans:
            self._set_aside(trial_id)
        run = self._init_or_go_offline(id=run_id(self.group, "sweep"), name=self.group,
                                       job_type="sweep", tags=list(self.settings.tags),
                                       config={"sweep": self.fixed_config})
        payload: dict[str, Any] = {
            "leaderboard": wandb.Table(columns=summary.columns, data=summary.rows)}
        payload.update({f"plots/{p.stem}": wandb.Image(str(p)) for p in summary.plots})
        run.log(payload)
        chosen, noise = summary.chosen or {}, summary.noise or {}
        run.summary.update({"best_trial": chosen.get("trial_id"),
                            "best_objective_se": noise.get("se"),
                            "within_noise": len(noise.get("within_noise", [])),
                            BEST_STEP: chosen.get(STEP),
                            "best_config": chosen.get("params"),
                            BEST_OBJECTIVE: chosen.get("objective"),
                            "best_checkpoint": chosen.get("checkpoint"),
                            "choice": summary.why,
                            "trials": len(summary.rows)})
        run.finish()
