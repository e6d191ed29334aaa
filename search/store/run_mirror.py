"""A run directory kept in an object store, mirrored on this machine: what is downloaded (Ray's
folders and reports, basin's files; a checkpoint only when asked for), what is uploaded (the
driver's files, as they change), deleting in both places, and the space a run takes. For a run
directory on a path there is nothing to keep in step: each call works on the path alone."""

from __future__ import annotations

import shutil
from pathlib import Path

from search.core import uris
from search.core.errors import SpecError
from search.core.layout import RAY_CHECKPOINT_PREFIX, WANDB_FOLDER, driver_file
from search.store import object_store as store
from trainables.contract import CANDIDATES_FOLDER, TRIAL_METRICS_FILE


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


class RunMirror:
    """Keeping a run directory's mirror and its object store in step (``remote``: the store's
    URI, None for a path; ``_uploaded``: what this process uploaded, by size and time). A part
    of ``RunDir``."""

    path: Path
    remote: str | None
    _uploaded: dict[str, tuple[int, float]]

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

    def size_bytes(self) -> int:
        """Space used by the run directory (checkpoints, W&B runs, study, plots)."""
        if self.remote:
            return sum(info.size or 0 for info in store.list_files(self.remote))
        return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())
