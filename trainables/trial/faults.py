"""Which errors are the machine's, not the configuration's.

A trial that raises is ended with its error and told to Optuna as a failed configuration, never
retried: retrying a configuration that cannot train only repeats the error. A fault of the
machine is different: a full disk or quota, a file system that went away, a lost worker or
node. The same configuration trains once it passes, so such an error is raised on to Ray Tune,
which restarts the trial from its latest checkpoint (``resources.max_failures`` times).
"""

from __future__ import annotations

import errno
from collections.abc import Iterator

# The operating system refused a read or a write: no space, no quota, an I/O error, a stale or
# disconnected network mount, a file system remounted read-only after errors.
TRANSIENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.ESTALE,
                              errno.ENOTCONN, errno.EROFS})
# Libraries that wrap the OSError in their own (torch.save: "RuntimeError: [enforce fail at
# inline_container.cc] . PytorchStreamWriter failed writing file ...: No space left on device").
TRANSIENT_MESSAGES = ("No space left on device", "Disk quota exceeded")
# Ray's own: the trial's worker process or its node died.
LOST_WORKER_ERRORS = ("ActorDiedError", "NodeDied")


def error_chain(error: BaseException) -> Iterator[BaseException]:
    """``error``, then each error it was raised from (``__cause__``, else ``__context__``),
    once each (a chain may loop)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def is_machine_fault(error: BaseException) -> bool:
    """Whether ``error``, or an error it was raised from, is the machine's fault."""
    return any(
        any(name in type(current).__name__ for name in LOST_WORKER_ERRORS)
        or (isinstance(current, OSError) and current.errno in TRANSIENT_ERRNOS)
        or any(message in str(current) for message in TRANSIENT_MESSAGES)
        for current in error_chain(error))
