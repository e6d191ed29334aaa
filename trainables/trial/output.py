"""A trial's own output (DeepSpeed's banners, transformers' warnings, what compiled ops print
at the C level) in ``trial.log`` in the trial's folder, not lost in Ray's session logs and not
on the user's terminal (the driver starts Ray with ``log_to_driver=False``).

File descriptors 1 and 2 are redirected, not only ``sys.stdout``: DeepSpeed's op builds and
gloo write to them directly. Ray's ``RunConfig(log_to_file=True)`` would do this for Tune, but
its stream wrapper lacks ``isatty`` and the trial's first library that asks raises.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Iterator

from trainables.contract import TRIAL_LOG


@contextlib.contextmanager
def output_to(folder: str) -> Iterator[None]:
    """Send this process's stdout and stderr to ``folder/trial.log`` (appended: a restarted
    trial keeps its earlier output) for the duration."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    log = os.open(os.path.join(folder, TRIAL_LOG), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.dup2(log, 1)
        os.dup2(log, 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, log):
            os.close(fd)
