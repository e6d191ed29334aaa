"""Reading a run directory back, while its sweep runs or after: the sweep, the study, the trials.

Everything here comes from files that are written as the sweep goes (``sweep.yaml`` first, the
Optuna journal at every report, Ray's per-trial folders), so a half-finished or crashed run
directory reads as well as a finished one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import optuna

from search.searcher import RAY_TRIAL_ATTR, open_storage
from search.spec import SpecError, SweepSpec, load_spec
from trainables.checkpoint import TRIAL_METRICS_FILE

SWEEP_FILE = "sweep.yaml"
RESULTS_FILE = "results.json"
BEST_FILE = "best.yaml"
STOPS_FILE = "stops.jsonl"
TRIAL_FOLDER = re.compile(r"^run_trial_([0-9a-f]+)_")


@dataclass
class RunDir:
    """A sweep's run directory."""

    path: Path

    @classmethod
    def open(cls, path: str | Path) -> RunDir:
        """Check that ``path`` is a basin run directory; raises ``SpecError`` otherwise."""
        path = Path(path)
        if not path.is_dir():
            raise SpecError([f"{path}: no such run directory"])
        if not (path / SWEEP_FILE).is_file():
            raise SpecError([f"{path}: not a basin run directory (no {SWEEP_FILE})"])
        return cls(path.resolve())

    @cached_property
    def spec(self) -> SweepSpec:
        return load_spec(self.path / SWEEP_FILE)

    @property
    def finished(self) -> bool:
        return (self.path / RESULTS_FILE).is_file()

    def study(self) -> optuna.Study:
        """The sweep's Optuna study (read-only use: no sampler needed)."""
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        storage = open_storage(self.path, self.spec.search.storage)
        return optuna.load_study(study_name=self.spec.name, storage=storage)

    def optuna_trials(self) -> dict[str, optuna.trial.FrozenTrial]:
        """Optuna's record of every trial, by Ray trial id (none before the study exists)."""
        try:
            trials = self.study().trials
        except KeyError:  # the sweep has not created its study yet
            return {}
        return {t.user_attrs[RAY_TRIAL_ATTR]: t for t in trials if RAY_TRIAL_ATTR in t.user_attrs}

    def trial_folders(self) -> dict[str, Path]:
        """Ray's folder of every started trial, by Ray trial id."""
        folders = {}
        for folder in sorted(self.path.iterdir()):
            match = TRIAL_FOLDER.match(folder.name)
            if match and folder.is_dir():
                folders[match.group(1)] = folder
        return folders

    def size_bytes(self) -> int:
        """Disk used by the run directory (checkpoints, W&B runs, study, plots)."""
        return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())

    @staticmethod
    def history(folder: Path) -> list[dict]:
        """Every report of one trial, oldest first (Ray appends them to result.json)."""
        path = folder / "result.json"
        if not path.is_file():
            return []
        rows: dict = {}
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                break  # a line cut short by a crash
            # A trial resumed from its final checkpoint repeats its last report: keep the first.
            rows.setdefault(row.get("step", len(rows)), row)
        return list(rows.values())

    @staticmethod
    def checkpoint(folder: Path, history: list[dict], best_step: int | None) -> Path | None:
        """The checkpoint of the trial's best step. Ray keeps two per trial (the best and the
        latest): Tune's in the trial folder, Ray Train's (multi-worker trials) named in the
        reports."""
        kept = {int(json.loads((c / TRIAL_METRICS_FILE).read_text())["step"]): c
                for c in folder.glob("checkpoint_*") if (c / TRIAL_METRICS_FILE).is_file()}
        kept.update({row["step"]: Path(row["checkpoint_path"]) for row in history
                     if row.get("checkpoint_path") and Path(row["checkpoint_path"]).is_dir()})
        return kept.get(best_step)

    @staticmethod
    def error(folder: Path) -> str | None:
        path = folder / "error.txt"
        if not path.is_file():
            return None
        lines = [line for line in path.read_text().splitlines() if line.strip()]
        return lines[-1] if lines else "the trial raised an error"
