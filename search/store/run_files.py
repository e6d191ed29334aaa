"""Where each file of a run directory is, and how a run directory is named in messages: the
files the driver writes beside Ray's trial folders (``core/layout.py`` names them)."""

from __future__ import annotations

from pathlib import Path

from search.core import uris
from search.core.layout import (
    BEST_FILE,
    CHECK_FILE,
    CONFIRM_FILE,
    FREEZES_FILE,
    PLOT_SUFFIX,
    RESULTS_FILE,
    STOPS_FILE,
    SWEEP_FILE,
    WANDB_FOLDER,
)


class RunFiles:
    """The paths of a run directory's files on this machine (``path``: the directory, or its
    mirror for a run kept in an object store at ``remote``). A part of ``RunDir``."""

    path: Path
    remote: str | None

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
