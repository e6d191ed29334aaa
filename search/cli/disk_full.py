"""A full disk met by the driver, said in one line: which folder, how much is free there, and
the command that continues the sweep once space is back (nothing is lost: every trial keeps its
latest checkpoint, and ``basin resume`` goes on from Ray's last snapshot)."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

from trainables.trial.faults import error_chain

NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


def no_space_error(error: BaseException) -> OSError | None:
    """The full-disk (or quota) ``OSError`` that ``error`` is, or was raised from; else None."""
    return next((e for e in error_chain(error)
                 if isinstance(e, OSError) and e.errno in NO_SPACE), None)


def _free_near(path: Path) -> str:
    """Free space on the file system holding ``path`` (its nearest existing folder)."""
    for folder in (path, *path.parents):
        if folder.exists():
            return f"{shutil.disk_usage(folder).free / 2**20:.0f} MiB free there"
    return "free space unknown"


def no_space_line(error: OSError, run_location: str | None) -> str:
    """One line for a full disk: the folder, its free space, and what to do next."""
    where = Path(error.filename).parent if error.filename else None
    what = "no space left on device" if error.errno == errno.ENOSPC else "disk quota exceeded"
    place = f" writing into {where} ({_free_near(where)})" if where else ""
    then = (f"then continue the sweep with: basin resume {run_location}" if run_location
            else "then run the command again")
    return f"basin: {what}{place}. Free space on that file system, {then}"
