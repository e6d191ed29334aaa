"""What a run directory keeps once it no longer needs it: the weights of candidates that can never
be chosen (the sweep file's ``keep`` block, ``search/selection/keep.py``) and the resume
checkpoints Ray keeps for trials that have ended.

Ray keeps each trial's latest two checkpoints (adapter, optimizer state, random generators) so
that an unfinished trial can continue; a trial that ended is never continued (``basin resume``
restores it as ended), so its two are dead weight, larger than its candidates together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from search.core.layout import RAY_CHECKPOINT_PREFIX
from search.core.outcome import FINISHED
from search.selection.candidates import candidate_at, gather
from search.selection.keep import Key, kept
from search.store import object_store as store
from trainables.contract import CANDIDATES_FOLDER, candidate_name

if TYPE_CHECKING:
    from search.core.record import TrialRecord
    from search.store.rundir import RunDir


def candidate_folder(trial_folder: str, step: int) -> str:
    """A candidate's folder, relative to the run directory."""
    return f"{trial_folder}/{CANDIDATES_FOLDER}/{candidate_name(step)}"


def ray_checkpoints(run: RunDir, trial_folders: list[str]) -> list[str]:
    """The resume checkpoints Ray keeps in these trial folders (a multi-worker trial's Ray
    Train keeps them one folder down), relative to the run directory; listed in the object
    store for a run kept there."""
    wanted = set(trial_folders)
    if run.remote is None:
        files = [path.relative_to(run.path).as_posix() for name in wanted
                 for path in (run.path / name).rglob("*") if path.is_file()]
    else:
        root = store.open_store(run.remote)[1].rstrip("/")
        files = [info.path[len(root):].strip("/") for info in store.list_files(run.remote)]
    found = set()
    for relative in files:
        parts = relative.split("/")
        if parts[0] not in wanted or CANDIDATES_FOLDER in parts:
            continue
        depth = next((i for i, part in enumerate(parts[1:-1], 1)
                      if part.startswith(RAY_CHECKPOINT_PREFIX)), None)
        if depth is not None:
            found.add("/".join(parts[:depth + 1]))
    return sorted(found)


@dataclass(frozen=True)
class Kept:
    """What the run directory kept: candidates with weights, of how many evaluations."""

    candidates: int
    evaluations: int

    def describe(self, policy: str) -> str:
        return (f"kept the checkpoints of {self.candidates} of {self.evaluations} evaluations "
                f"({policy})")


def keep_what_counts(run: RunDir, records: list[TrialRecord]) -> Kept:
    """The sweep's last pass, once every trial has ended: delete the weights of every
    candidate the ``keep`` policy does not keep, and the resume checkpoints of ended trials.
    The policy pruned the candidates as the reports came (``search/tune/keep_as_reported.py``);
    what is left to delete here is what it could not: resume checkpoints in an object store
    (Ray's snapshot of the trials' state may lag there), the candidates reported before a
    resume (the resumed callback is the one pickled at the sweep's start, which never heard of
    them) and those of a sweep whose earlier driver deleted nothing as it went (basin 0.1).
    ``records`` lose the checkpoints deleted here, as a new reading of the run would."""
    spec = run.spec
    evaluations = sum(len(r.evaluations) for r in records)
    if spec.keep.keeps_everything:
        return Kept(sum(len(r.checkpoints) for r in records), evaluations)
    metric, mode = spec.objective.metric, spec.objective.mode
    candidates = [c for record in records for row in record.evaluations
                  if (c := candidate_at(record, row, metric, mode)) is not None]
    keep: set[Key] = kept(candidates, gather(records, metric, mode).candidates, spec.selection,
                          spec.keep)
    folders = {trial_id: folder.relative_to(run.path).as_posix()
               for trial_id, folder in run.trial_folders().items()}
    for record in records:
        for step in sorted(record.checkpoints):
            if (record.trial_id, step) not in keep and record.trial_id in folders:
                run.remove(candidate_folder(folders[record.trial_id], step))
                del record.checkpoints[step]
    ended = [folders[r.trial_id] for r in records
             if r.outcome.status in FINISHED and r.trial_id in folders]
    for relative in ray_checkpoints(run, ended):
        run.remove(relative)
    return Kept(sum(len(r.checkpoints) for r in records), evaluations)

