"""Reading a run directory back, while its sweep runs or after: the sweep, the study, the trials.

Everything here comes from files that are written as the sweep goes (``sweep.yaml`` first, the
Optuna journal at every report, Ray's per-trial folders), so a half-finished or crashed run
directory reads as well as a finished one. A run directory in an object store is read through
its mirror on this machine (``search.store.object_store``).
"""

from __future__ import annotations

import itertools
import json
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path

import optuna

from search.core import uris
from search.core.errors import SpecError
from search.core.layout import (
    BEST_FILE,
    CHECK_FILE,
    CONFIRM_FILE,
    FREEZES_FILE,
    PLOT_SUFFIX,
    RAY_CHECKPOINT_PREFIX,
    RESULTS_FILE,
    STOPS_FILE,
    SWEEP_FILE,
    VERSIONS_FILE,
    WANDB_FOLDER,
    driver_file,
)
from search.spec.model import SweepSpec, dump_spec
from search.spec.recorded import load_recorded_spec
from search.store import object_store as store
from search.store.journal import JournalDamage
from search.store.study import RAY_TRIAL_ATTR, open_to_read
from search.store.trial_folder import candidate_folders, trial_folders_in
from trainables.contract import CANDIDATES_FOLDER, TRIAL_METRICS_FILE
from trainables.fingerprint import library_versions


def trial_id_of(trial) -> str:
    """A Tune trial's id: the one name it has in every table, progress line, W&B run, Optuna
    attribute and, as ``TuneConfig.trial_dirname_creator``, its folder."""
    return trial.trial_id

def _worth_downloading(relative: str) -> bool:
    """Everything but W&B's files and checkpoint payloads; a candidate's metrics file comes,
    so that the candidates kept are known without fetching them. (W&B's folder is uploaded but
    never downloaded: only `wandb sync` reads it, on the machine that wrote it.)"""
    parts = relative.split("/")
    if parts[0] == WANDB_FOLDER:
        return False
    in_checkpoint = any(part.startswith(RAY_CHECKPOINT_PREFIX) or part == CANDIDATES_FOLDER
                        for part in parts[:-1])
    return not in_checkpoint or (CANDIDATES_FOLDER in parts and parts[-1] == TRIAL_METRICS_FILE)


@dataclass
class RunDir:
    """A sweep's run directory: ``path`` on this machine, and ``remote``, the object-store URI
    it is kept at (None for a local or shared path, where ``path`` is the run directory)."""

    path: Path
    remote: str | None = None
    _uploaded: dict[str, tuple[int, float]] = field(default_factory=dict, repr=False)
    # Set by study(): what followed the journal's last complete record, if anything.
    journal_damage: JournalDamage | None = field(default=None, repr=False)

    @classmethod
    def create(cls, spec: SweepSpec) -> RunDir:
        """A fresh run directory ``<output_dir>/<name>-<timestamp>`` holding the validated sweep.

        In an object store, the files are written to the run's mirror on this machine and
        uploaded; a store that cannot be written to is refused before any trial starts.
        """
        stamp = f"{spec.name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
        for attempt in itertools.count(1):
            # Two runs started in the same second: the second takes the next free suffix
            # (mkdir is atomic, so two drivers never share a folder).
            name = stamp if attempt == 1 else f"{stamp}-{attempt}"
            if not uris.is_object_store(spec.output_dir):
                run = cls(Path(spec.output_dir) / name)
            else:
                remote = uris.join(spec.output_dir, name)
                run = cls(store.mirror_of(remote), remote=remote)
            run.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                run.path.mkdir()
                break
            except FileExistsError:
                continue
        run.sweep_file.write_text(dump_spec(spec))
        (run.path / VERSIONS_FILE).write_text(json.dumps(library_versions(), indent=2))
        try:
            run.push()
        except store.LocationError as error:
            shutil.rmtree(run.path, ignore_errors=True)
            raise SpecError([f"output_dir: cannot write the run directory: {error}"]) from error
        return run

    @classmethod
    def open(cls, where: str | Path) -> RunDir:
        """Check that ``where`` is a basin run directory (a path or an object-store URI; the
        latter is downloaded to its mirror first); raises ``SpecError`` otherwise."""
        if uris.is_object_store(where):
            return cls._open_remote(str(where))
        path = Path(where)
        if path.is_file():
            raise SpecError([f"{path}: is a file, not a run directory (a run directory is what "
                             f"basin run made, e.g. runs/NAME-DATE; basin ls lists them)"])
        if not path.is_dir():
            raise SpecError([f"{path}: no such run directory (basin ls lists the runs)"])
        if not (path / SWEEP_FILE).is_file():
            raise SpecError([f"{path}: not a basin run directory (no {SWEEP_FILE})"
                             + _runs_inside(path)])
        return cls(path.resolve())

    @classmethod
    def _open_remote(cls, uri: str) -> RunDir:
        shown = uris.without_query(uri)
        try:
            if not store.exists(uri, SWEEP_FILE):
                raise SpecError([f"{shown}: not a basin run directory (no {SWEEP_FILE})"])
            run = cls(store.mirror_of(uri), remote=uri)
            run.pull()
        except store.LocationError as error:
            raise SpecError([str(error)]) from error
        return run

    # -- the files the driver writes -----------------------------------------------------

    @property
    def sweep_file(self) -> Path:
        """The validated sweep, every field explicit (written first)."""
        return self.path / SWEEP_FILE

    @property
    def results_file(self) -> Path:
        """Every trial and the choice, written when the sweep ends."""
        return self.path / RESULTS_FILE

    @property
    def best_file(self) -> Path:
        """The recipe of the chosen checkpoint: a sweep file that re-trains it."""
        return self.path / BEST_FILE

    @property
    def stops_file(self) -> Path:
        """The stop ledger: why each rule-stopped trial stopped, as it happens."""
        return self.path / STOPS_FILE

    @property
    def freezes_file(self) -> Path:
        """The freeze ledger: rungs, frozen and thawed trials, as it happens."""
        return self.path / FREEZES_FILE

    @property
    def confirm_file(self) -> Path:
        """``basin confirm``'s ranking of the top candidates re-trained with new seeds."""
        return self.path / CONFIRM_FILE

    @property
    def check_file(self) -> Path:
        """``basin check``'s figures of the top candidates (flatness, retention, seeds)."""
        return self.path / CHECK_FILE

    @property
    def wandb_dir(self) -> Path:
        """Where W&B writes its runs (offline runs stay there until ``wandb sync``)."""
        return self.path / WANDB_FOLDER

    def shown_file(self, file: Path) -> str:
        """Where one of this run's files is kept, for messages (a URI for an object store)."""
        return f"{self.shown}/{file.relative_to(self.path).as_posix()}"

    def plot_file(self, name: str) -> Path:
        """A plot's PNG file (plots sit at the top of the run directory)."""
        return self.path / f"{name}{PLOT_SUFFIX}"

    @property
    def location(self) -> str:
        """Where the run directory is kept, as a user names it on the command line."""
        return self.remote if self.remote else str(self.path)

    @property
    def shown(self) -> str:
        """``location`` for messages: an object store's query (endpoint, keys) left out."""
        return uris.without_query(self.remote) if self.remote else str(self.path)

    def pull(self) -> None:
        """Refresh the mirror of an object-store run directory (no-op for a path): Ray's
        folders and reports, basin's files; checkpoints only by their metrics file."""
        if self.remote:
            self.path.mkdir(parents=True, exist_ok=True)
            # What this process uploaded is current here already.
            store.download(self.remote, self.path,
                           lambda relative: _worth_downloading(relative)
                           and relative not in self._uploaded)

    def push(self) -> None:
        """Upload the driver's files that changed since the last push (no-op for a path)."""
        if not self.remote or not self.path.is_dir():
            return
        changed = []
        for file in self.path.rglob("*"):
            relative = file.relative_to(self.path).as_posix()
            if not file.is_file() or not driver_file(relative):
                continue
            stat = file.stat()
            if self._uploaded.get(relative) != (stat.st_size, stat.st_mtime):
                changed.append((relative, (stat.st_size, stat.st_mtime)))
        store.upload(self.path, self.remote, [relative for relative, _ in changed])
        self._uploaded.update(changed)

    def remove(self, relative: str) -> None:
        """Delete a folder of the run directory (``relative`` to it): here and, for a run in
        an object store, there. A folder already gone is fine."""
        shutil.rmtree(self.path / relative, ignore_errors=True)
        if self.remote:
            store.remove(self.remote, relative)

    def fetch(self, where: str) -> Path:
        """A local folder with the whole of ``where`` (a path, or a URI in this run's object
        store: a checkpoint, downloaded on demand)."""
        if not uris.is_object_store(where):
            return Path(where)
        relative = uris.without_query(where)[len(uris.without_query(self.remote or "")):]
        local = self.path / relative.strip("/")
        try:
            store.download(where, local)
        except store.LocationError as error:
            raise SpecError([str(error)]) from error
        return local

    @cached_property
    def spec(self) -> SweepSpec:
        return load_recorded_spec(self.sweep_file)

    @property
    def finished(self) -> bool:
        return self.results_file.is_file()

    def study(self) -> optuna.Study:
        """The sweep's Optuna study, to read: a journal's complete records only (a damaged
        tail is left in the file and described in ``journal_damage``)."""
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        storage, self.journal_damage = open_to_read(self.path, self.spec.search.storage)
        names = optuna.study.get_all_study_names(storage)
        # Named after the run directory; basin 0.1 named it after the sweep (compatibility:
        # remove in basin 0.3); a run directory renamed since, with its own journal, holds one.
        own = [] if self.spec.search.storage else names[:1] if len(names) == 1 else []
        for name in (self.path.name, self.spec.name, *own):
            if name in names:
                return optuna.load_study(study_name=name, storage=storage)
        raise KeyError(f"no study {self.path.name!r} in the run's storage")

    def optuna_trials(self) -> dict[str, optuna.trial.FrozenTrial]:
        """Optuna's record of every trial, by Ray trial id (none before the study exists)."""
        try:
            trials = self.study().trials
        except KeyError:  # the sweep has not created its study yet
            return {}
        return {t.user_attrs[RAY_TRIAL_ATTR]: t for t in trials if RAY_TRIAL_ATTR in t.user_attrs}

    def trial_folders(self) -> dict[str, Path]:
        """Ray's folder of every started trial, by trial id."""
        return trial_folders_in(self.path)

    def size_bytes(self) -> int:
        """Space used by the run directory (checkpoints, W&B runs, study, plots)."""
        if self.remote:
            return sum(info.size or 0 for info in store.list_files(self.remote))
        return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())

    def checkpoints(self, folder: Path) -> dict[int, str]:
        """Every candidate checkpoint of a trial, by its step: a path, or a URI for an
        object-store run."""
        return {step: (uris.join(self.remote, candidate.relative_to(self.path).as_posix())
                       if self.remote else str(candidate))
                for step, candidate in candidate_folders(folder).items()}


def _runs_inside(folder: Path) -> str:
    """A hint naming the run directories just inside ``folder`` (the output_dir given for a run)."""
    runs = sorted(child.name for child in folder.iterdir() if (child / SWEEP_FILE).is_file())
    if not runs:
        return ""
    shown = ", ".join(runs[-3:]) + (f" and {len(runs) - 3} more" if len(runs) > 3 else "")
    return f"; the run directories in it: {shown} (e.g. {folder / runs[-1]}; basin ls {folder})"

