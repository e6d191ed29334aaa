"""The study's journal file, read record by record, and its damaged tail set aside.

Optuna's journal is one JSON record per line. A driver killed during a write leaves a torn
last line; a disk or an editor can leave a garbage one. Optuna then appends the next record
after it, and every later read fails. basin reads only the complete records before the first
bad line: ``status`` and ``best`` show them (and say what they ignored), ``resume`` moves the
bad tail to a file beside the journal, so the study goes on from its last complete record and
nothing is destroyed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optuna.storages.journal import BaseJournalBackend


@dataclass(frozen=True)
class JournalDamage:
    """What follows the last complete record of a journal."""

    path: Path
    kept_records: int
    bad_lines: int
    bad_bytes: int
    set_aside: Path | None = None

    def describe(self) -> str:
        what = (f"{self.bad_lines} torn or unreadable line{'s' if self.bad_lines > 1 else ''} "
                f"({self.bad_bytes} bytes) after record {self.kept_records}")
        if self.set_aside is None:
            return (f"{self.path.name}: ignored {what}; shown: the {self.kept_records} complete "
                    f"records before (basin resume repairs the file)")
        return (f"{self.path.name}: dropped {what}, moved to {self.set_aside.name}; the study "
                f"goes on from its {self.kept_records} complete records")


def read_journal(path: Path) -> tuple[list[dict[str, Any]], JournalDamage | None]:
    """The complete records before the first bad line, and what follows them (or None)."""
    data = path.read_bytes()
    records, good_bytes = _complete_records(data)
    if good_bytes == len(data):
        return records, None
    return records, _damage(path, len(records), data[good_bytes:])


def _complete_records(data: bytes) -> tuple[list[dict[str, Any]], int]:
    """The records before the first torn or unreadable line, and the bytes they take."""
    records: list[dict[str, Any]] = []
    good_bytes = 0
    for line in data.splitlines(keepends=True):
        if not line.endswith(b"\n"):
            break  # torn: the write that would have ended it never happened
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            break
        if not isinstance(record, dict):
            break
        records.append(record)
        good_bytes += len(line)
    return records, good_bytes


def _damage(path: Path, kept: int, tail: bytes, set_aside: Path | None = None) -> JournalDamage:
    lines = tail.count(b"\n") + (not tail.endswith(b"\n"))
    return JournalDamage(path, kept, lines, len(tail), set_aside)


def repair_journal(path: Path) -> JournalDamage | None:
    """Move a damaged tail out of the journal into ``<journal>.damaged-<offset>``; None when
    the journal is whole (or absent). Only the driver that is about to write may call this."""
    if not path.is_file():
        return None
    data = path.read_bytes()
    records, good_bytes = _complete_records(data)
    if good_bytes == len(data):
        return None
    aside = path.with_name(f"{path.name}.damaged-{good_bytes}")
    aside.write_bytes(data[good_bytes:])
    os.truncate(path, good_bytes)
    return _damage(path, len(records), data[good_bytes:], aside)


class ReadOnlyJournal(BaseJournalBackend):
    """A journal's complete records for Optuna to read; commands that only look (status,
    best, plots) can never append after a damaged line through it."""

    def __init__(self, records: list[dict[str, Any]]):
        self._records = records

    def read_logs(self, log_number_from: int) -> list[dict[str, Any]]:
        return self._records[log_number_from:]

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        raise PermissionError("basin opened this study to read it, not to change it")
