"""SIGTERM stops a sweep the way Ctrl-C does.

Clusters stop a job with SIGTERM (SLURM and Kubernetes preemption, ``ray job stop``) and give it
a grace period (30 s by default in both) before SIGKILL. ``ray.init`` makes SIGTERM exit the
driver at once (``sys.exit``), which leaves no last snapshot of the sweep; routed to whatever
handles Ctrl-C instead, it lets Ray Tune's own interrupt handler stop the trials and save the
sweep's state (inside ``Tuner.fit``), or ends the command with "interrupted" elsewhere. Either
way ``basin resume`` continues the sweep, as after Ctrl-C.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType


def _as_interrupt(signum: int, frame: FrameType | None) -> None:
    print("basin: SIGTERM received: stopping the sweep as Ctrl-C would (continue it with "
          "basin resume)", file=sys.stderr, flush=True)
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler):
        handler(signal.SIGINT, frame)  # Ray Tune's inside fit, else Python's KeyboardInterrupt
    else:  # SIGINT ignored (a background job) or default: interrupt all the same
        raise KeyboardInterrupt


def stop_on_sigterm() -> None:
    """From now on, SIGTERM in this process is handled as Ctrl-C (main thread only: Python
    installs signal handlers nowhere else)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _as_interrupt)


@contextlib.contextmanager
def sigint_handler_kept() -> Iterator[None]:
    """Around ``Tuner.fit``: the SIGINT handler before it is the one after it.

    Ray Tune installs its own handler when it fits and puts the previous one back only when a
    signal arrives (ray/tune/tune.py, ``_setup_signal_catching``). Left in place after a fit that
    ended normally, it swallowed the first Ctrl-C (or SIGTERM, routed here) during what comes
    next, ``basin check``'s re-training included: it only sets the finished fit's event."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.getsignal(signal.SIGINT)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)
