"""Where the sweep's Optuna study is kept: a journal file in the run directory (the default),
or a database named by ``search.storage`` (SQLite, PostgreSQL, MySQL through SQLAlchemy).

Only the driver writes the study, but it must outlive the driver: on a cluster whose run
directory is an object store, the study goes to a database such as PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from search.spec.messages import one_line
from search.store.journal import JournalDamage, ReadOnlyJournal, read_journal

if TYPE_CHECKING:
    import optuna

JOURNAL_FILE = "optuna.journal"
DRIVER_HINTS = {"postgresql": "pip install 'basin[postgres]'"}


def check_database_url(url: str) -> str:
    """Refuse a ``search.storage`` that is not a database URL, or whose database driver is not
    installed (Optuna would only fail once the sweep starts)."""
    try:
        parsed = make_url(url)
        parsed.get_dialect().import_dbapi()
    except NoSuchModuleError:  # before ArgumentError, its base class
        raise ValueError(f"unknown database {url.split(':', 1)[0]!r} (use sqlite, postgresql "
                         f"or mysql) (got {shown_url(url)!r})") from None
    except ArgumentError:
        raise ValueError(f"not a database URL such as postgresql://user:password@host:5432/basin "
                         f"or sqlite:////shared/basin.db (got {url!r})") from None
    except ImportError as error:
        hint = DRIVER_HINTS.get(parsed.get_backend_name(), "install its Python driver")
        raise ValueError(f"the driver for {parsed.drivername} is not installed ({error.name}): "
                         f"{hint} (got {shown_url(url)!r})") from None
    return url


def shown_url(url: str) -> str:
    """The URL with its password masked, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


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
