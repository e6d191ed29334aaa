"""Where the sweep's Optuna study is kept: a journal file in the run directory (the default),
or a database named by ``search.storage`` (SQLite, PostgreSQL, MySQL through SQLAlchemy).

Only the driver writes the study, but it must outlive the driver: on a cluster whose run
directory is an object store, the study goes to a database such as PostgreSQL. What basin
writes into the study beside Optuna's own records (each trial's outcome, its Ray trial id) is
named here too.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from search.core.layout import JOURNAL_FILE
from search.core.outcome import Outcome
from search.spec.messages import one_line
from search.spec.storage_url import shown_url
from search.store.journal import JournalDamage, ReadOnlyJournal, read_journal
from trainables.contract import DRIFT, GAP

if TYPE_CHECKING:
    import optuna

# The outcome's fields, each a user attribute of the Optuna trial (see search/core/outcome.py).
OUTCOME_ATTRS = {"status": "basin_status", "kind": "basin_kind", "reason": "basin_reason",
                 "step": "basin_step", "excluded": "basin_excluded"}
STATUS_ATTR, KIND_ATTR = OUTCOME_ATTRS["status"], OUTCOME_ATTRS["kind"]
REASON_ATTR = OUTCOME_ATTRS["reason"]
GAP_AT_BEST_ATTR = "gap_at_best_step"
# Figures of each trial's best step (the checkpoint it hands on), each a user attribute.
AT_BEST_ATTRS = {GAP: GAP_AT_BEST_ATTR, DRIFT: "drift_at_best_step"}
RAY_TRIAL_ATTR = "ray_trial_id"


def open_storage(run_dir: Path, url: str | None) -> optuna.storages.BaseStorage | str:
    """The study's storage: the sweep's database URL, else a journal file in the run directory
    that several processes may share."""
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    if url:
        return url
    return JournalStorage(JournalFileBackend(str(run_dir / JOURNAL_FILE)))


def open_to_read(run_dir: Path, url: str | None
                 ) -> tuple[optuna.storages.BaseStorage | str, JournalDamage | None]:
    """The study's storage for commands that only read it, and any damage at the end of its
    journal: only the journal's complete records are read, and nothing can be appended."""
    from optuna.storages import JournalStorage

    if url:
        return url, None
    path = run_dir / JOURNAL_FILE
    records, damage = read_journal(path) if path.is_file() else ([], None)
    return JournalStorage(ReadOnlyJournal(records)), damage


def check_reachable(url: str | None) -> str | None:
    """Connect to the sweep's database before any trial starts; the reason it cannot, in one
    line, or None when it can (or when the sweep uses the journal file)."""
    if not url:
        return None
    import optuna

    try:
        optuna.storages.RDBStorage(url)  # creates the tables on first use
    except Exception as error:  # SQLAlchemy's errors, whatever the driver raises
        detail = one_line(getattr(error, "orig", None) or error)
        return f"cannot open {shown_url(url)}: {detail[:300]}"
    return None


def record_outcome(trial: optuna.Trial, outcome: Outcome) -> None:
    """Write an outcome's fields into the Optuna trial's user attributes, the status last: each
    is a record of its own, and a driver killed between them must leave a trial that reads as
    not told yet (``told_outcome``), not one with a status and no kind."""
    for field, attr in sorted(OUTCOME_ATTRS.items(), key=lambda item: item[0] == "status"):
        trial.set_user_attr(attr, getattr(outcome, field))


def told_outcome(frozen: optuna.trial.FrozenTrial) -> Outcome | None:
    """The outcome an Optuna trial was told (None: not told yet)."""
    attrs = frozen.user_attrs
    # Status and kind: a journal of an earlier basin, killed between the two, holds a status
    # alone (the status is now written last).
    if STATUS_ATTR not in attrs or KIND_ATTR not in attrs:
        return None
    return Outcome.from_dict({field: attrs.get(attr) for field, attr in OUTCOME_ATTRS.items()
                              if attr in attrs})
