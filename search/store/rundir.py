"""A run directory made and opened, and read back while its sweep runs or after: the sweep, the
study, the trials' folders and checkpoints. Where its files are is ``run_files.py``; keeping a
run in an object store in step with its mirror on this machine is ``run_mirror.py``.

Everything here comes from files that are written as the sweep goes (``sweep.yaml`` first, the
Optuna journal at every report, Ray's per-trial folders), so a half-finished or crashed run
directory reads as well as a finished one.
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
from search.core.layout import SWEEP_FILE, VERSIONS_FILE
from search.spec.model import SweepSpec, dump_spec
from search.spec.recorded import load_recorded_spec
from search.store import object_store as store
from search.store.journal import JournalDamage
from search.store.run_files import RunFiles
from search.store.run_mirror import RunMirror
from search.store.study import RAY_TRIAL_ATTR, open_to_read
from search.store.trial_folder import candidate_folders, trial_folders_in
from trainables.fingerprint import library_versions


def trial_id_of(trial) -> str:
    """A Tune trial's id: the one name it has in every table, progress line, W&B run, Optuna
    attribute and, as ``TuneConfig.trial_dirname_creator``, its folder."""
    return trial.trial_id


@dataclass
class RunDir(RunFiles, RunMirror):
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

