"""The end of a sweep: one record per trial, the leaderboard, results.json and best.yaml."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from optuna.trial import TrialState
from rich.console import Console
from rich.table import Table

from search.rundir import BEST_FILE, RESULTS_FILE, RunDir
from search.searcher import REASON_ATTR, STATUS_ATTR
from search.space import ConstantParam
from search.spec import SweepSpec, dump_spec

AT_BEST_METRICS = ("val_loss", "train_eval_loss", "gap")
SHORT_NAMES = {"learning_rate": "lr", "weight_decay": "wd", "lora_dropout": "dropout",
               "lora_r": "r", "lora_alpha": "alpha", "warmup_ratio": "warmup",
               "hidden_dropout": "hidden_dropout"}


@dataclass
class TrialRecord:
    """What a user needs to know about one trial after the sweep."""

    trial_id: str
    status: str  # completed | pruned | failed
    reason: str
    params: dict[str, Any]
    best_objective: float | None
    best_step: int | None
    last_step: int | None
    at_best: dict[str, float] = field(default_factory=dict)  # val/train loss, gap at best step
    final: dict[str, float] = field(default_factory=dict)  # the same at the last evaluation
    checkpoint: str | None = None
    optuna_number: int | None = None

    @property
    def status_text(self) -> str:
        """The label with the reason when it says something (ASHA's is always the same)."""
        label = self.status_label
        if self.reason and label not in ("pruned: asha", "completed", "running"):
            label += f" ({self.reason})"
        return label

    @property
    def status_label(self) -> str:
        if self.status == "pruned":
            kind = self.reason.split(" ")[0].rstrip(":")
            return f"pruned: {kind if kind in ('gap', 'diverged') else 'asha'}"
        return self.status


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _record(run: RunDir, trial_id: str, folder: Path | None, told: Any, mode: str) -> TrialRecord:
    """One trial from its folder (Ray's reports) and Optuna's record of it."""
    reports = RunDir.history(folder) if folder else []
    # A trial that diverged or failed ends with a report of NaNs naming what happened.
    history = [row for row in reports if "outcome" not in row]
    error = RunDir.error(folder) if folder else None
    status = told.user_attrs.get(STATUS_ATTR) if told else None
    if status is None:  # not told yet: still running, or the driver died before telling
        status = "failed" if error else ("running" if told is None or
                                         told.state == TrialState.RUNNING else "unknown")
    reason = (told.user_attrs.get(REASON_ATTR, "") if told else "") or ""
    if status == "failed" and error and not reason:
        reason = error
    params = dict(told.params) if told else {}
    if folder and (folder / "params.json").is_file():
        params = json.loads((folder / "params.json").read_text())
    record = TrialRecord(
        trial_id=trial_id, status=status, reason=reason, params=params,
        best_objective=None, best_step=None, last_step=None,
        optuna_number=told.number if told else None,
    )
    if history:
        last = history[-1]
        record.best_objective = _finite(last.get("best_objective"))
        record.best_step = last.get("best_step")
        record.last_step = last.get("step")
        record.final = {k: _finite(last.get(k)) for k in AT_BEST_METRICS}
        record.checkpoint = run.checkpoint(folder, record.best_step)
        at_best = [row for row in history if row.get("step") == record.best_step]
        if at_best:
            record.at_best = {k: _finite(at_best[0].get(k)) for k in AT_BEST_METRICS}
    elif told and told.intermediate_values:
        # Ray writes a trial's reports to disk in batches; Optuna has each one at once.
        steps = sorted(told.intermediate_values)
        pick = min if mode == "min" else max
        record.best_step = pick(steps, key=told.intermediate_values.__getitem__)
        record.best_objective = told.intermediate_values[record.best_step]
        record.last_step = steps[-1]
    return record


def collect_records(run: RunDir) -> list[TrialRecord]:
    """Every trial of a run directory, started or only suggested, finished or not."""
    told = run.optuna_trials()
    folders = run.trial_folders()
    mode = run.spec.objective.mode
    # An orphan (asked for by a driver that died before Ray recorded it) never trained; its
    # configuration was queued again under a new trial.
    orphans = {i for i, t in told.items() if t.user_attrs.get(STATUS_ATTR) == "orphaned"}
    return [_record(run, trial_id, folders.get(trial_id), told.get(trial_id), mode)
            for trial_id in sorted((set(told) | set(folders)) - orphans)]


def rank(records: list[TrialRecord], mode: str) -> list[TrialRecord]:
    """Completed trials first, by objective; then running, then pruned; failed last."""
    order = {"completed": 0, "running": 1, "pruned": 2}
    sign = 1 if mode == "min" else -1

    def key(record: TrialRecord) -> tuple:
        value = record.best_objective
        missing = value is None
        return (order.get(record.status, 2), missing, 0 if missing else sign * value)

    return sorted(records, key=key)


def within_gap_limit(record: TrialRecord, spec: SweepSpec) -> bool:
    """Whether a trial's last measured gap is under the sweep's gap-pruning threshold."""
    gap, val_loss = record.final.get("gap"), record.final.get("val_loss")
    if gap is None:
        return False
    limit = spec.gap_pruning.threshold
    if spec.gap_pruning.relative:
        return val_loss is not None and gap <= limit * val_loss
    return gap <= limit


def eligible(records: list[TrialRecord], mode: str) -> list[TrialRecord]:
    """Trials that trained their full budget without being pruned, best first.

    A pruned trial is not eligible even if its early checkpoint scored well: trained to the
    end, its configuration overfits (gap) or lags (ASHA).
    """
    return [r for r in rank(records, mode)
            if r.status == "completed" and r.best_objective is not None]


def best_record(records: list[TrialRecord], mode: str) -> TrialRecord | None:
    """The best eligible trial (see ``eligible``)."""
    return next(iter(eligible(records, mode)), None)


def _shown_params(spec: SweepSpec) -> list[str]:
    searched = [name for name, p in spec.space.items() if not isinstance(p, ConstantParam)]
    return searched or list(spec.space)  # a fixed-value sweep (best.yaml) shows its values


def _columns(spec: SweepSpec, shown: list[str]) -> list[str]:
    return ["trial", *[SHORT_NAMES.get(n, n) for n in shown], f"best {spec.objective.metric}",
            "best step", "last step", "val_loss", "train_loss", "gap", "status", "reason"]


def _row(record: TrialRecord, shown: list[str]) -> list:
    """One trial's values in the order of ``_columns``, its status and reason last."""
    return [record.trial_id, *[record.params.get(name) for name in shown], record.best_objective,
            record.best_step, record.last_step, *[record.at_best.get(k) for k in AT_BEST_METRICS],
            record.status_label, record.reason]


def leaderboard_rows(records: list[TrialRecord], spec: SweepSpec) -> tuple[list[str], list[list]]:
    """(column names, one row of raw values per trial, best first): the leaderboard as data."""
    shown = _shown_params(spec)
    return _columns(spec, shown), [_row(r, shown) for r in rank(records, spec.objective.mode)]


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def leaderboard(records: list[TrialRecord], spec: SweepSpec, console: Console,
                top: int | None = None, title: str | None = None) -> None:
    """Print the ranked trials with their hyperparameters, losses, gap and status."""
    shown = _shown_params(spec)
    ranked = rank(records, spec.objective.mode)
    table = Table(title=title or f"{spec.name}: {spec.objective.metric} ({spec.objective.mode})")
    for column in _columns(spec, shown)[:-1]:  # the reason is folded into the status column
        table.add_column(column, overflow="fold")
    for record in ranked[:top] if top else ranked:
        table.add_row(*[_cell(v) for v in _row(record, shown)[:-2]], record.status_text)
    console.print(table)


def best_spec(spec: SweepSpec, record: TrialRecord) -> SweepSpec:
    """A sweep file that re-trains exactly ``record``'s configuration as a single trial."""
    fixed = spec.model_copy(deep=True)
    fixed.name = f"{spec.name}-best"
    fixed.space = {
        name: ConstantParam(type="constant", value=record.params[name]) for name in spec.space
    }
    fixed.search.num_trials = 1
    fixed.search.max_concurrent_trials = 1
    fixed.scheduler.type = "fifo"
    return fixed


def write_results(run_dir: Path, spec: SweepSpec, records: list[TrialRecord]) -> TrialRecord | None:
    """Write results.json (every trial) and best.yaml (the winner, if any trial completed)."""
    best = best_record(records, spec.objective.mode)
    payload = {
        "sweep": spec.name,
        "objective": {"metric": spec.objective.metric, "mode": spec.objective.mode},
        "best_trial": best.trial_id if best else None,
        "trials": [asdict(r) | {"status_label": r.status_label}
                   for r in rank(records, spec.objective.mode)],
    }
    (run_dir / RESULTS_FILE).write_text(json.dumps(payload, indent=2))
    if best is not None:
        header = (f"# The best configuration of sweep {spec.name} (trial {best.trial_id}).\n"
                  f"# Re-train it: basin run {run_dir / BEST_FILE}\n")
        (run_dir / BEST_FILE).write_text(header + dump_spec(best_spec(spec, best)))
    return best
