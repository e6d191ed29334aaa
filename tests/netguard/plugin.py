"""pytest's side of the network guard (``basin_network_guard.py``, which says what it covers):
installed in the test process and, through ``PYTHONPATH``, in every Python process the tests
start; a test during whose setup, call or teardown the guard refused a connection or a lookup
fails, naming it with the process and the stack.

Refusals are read from the shared log in order, each charged to the phase that reads it
first: a child process's refusal that is written just after a test ended fails the next one
(its line names the process). A test that means to provoke refusals takes them with the
``network_refusals`` fixture; what is left at the end of the session fails the run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

GUARD_DIR = Path(__file__).resolve().parent
_log: dict = {"path": None, "offset": 0, "known": []}


def start(log: Path) -> None:
    """Guard this process and every Python process started after this call."""
    sys.path.insert(0, str(GUARD_DIR))  # the name its children import it by, here too
    import basin_network_guard as guard

    log.parent.mkdir(parents=True, exist_ok=True)
    _log["path"] = str(log)
    os.environ[guard.LOG_ENV] = str(log)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(GUARD_DIR), *filter(None, [os.environ.get("PYTHONPATH")])])
    guard.install(str(log))


def take_refusals() -> list[dict]:
    """The refusals logged since the last look (the known ones set aside)."""
    import basin_network_guard as guard

    if _log["path"] is None:
        return []
    entries, _log["offset"] = guard.read_from(_log["offset"], _log["path"])
    _log["known"] += [entry for entry in entries if entry["known"]]
    return [entry for entry in entries if not entry["known"]]


def _checked(item: pytest.Item, phase: str):
    """A phase's hook wrapper: the phase fails on what the guard refused during it; one that
    failed anyway shows its refusals beside its own error."""
    import basin_network_guard as guard

    try:
        result = yield
    except BaseException:
        found = take_refusals()
        if found:
            item.add_report_section(phase, "network guard", "\n".join(map(guard.describe, found)))
        raise
    found = take_refusals()
    if found:
        pytest.fail(f"the network guard refused {len(found)} call(s) beyond loopback during "
                    f"{PHASES[phase]}:\n" + "\n".join(map(guard.describe, found)),
                    pytrace=False)
    return result


PHASES = {"setup": "setup", "call": "the test", "teardown": "teardown"}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    return (yield from _checked(item, "setup"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    return (yield from _checked(item, "call"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    return (yield from _checked(item, "teardown"))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Refusals after the last test's teardown (a worker that outlived it) fail the run."""
    import basin_network_guard as guard

    late = take_refusals()
    if late:
        print("\nthe network guard refused calls beyond loopback after the last test:\n"
              + "\n".join(guard.describe(entry) for entry in late), file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter) -> None:
    """The refusals that fail nothing (no setting of the library switches them off)."""
    reasons = sorted({entry["known"] for entry in _log["known"]})
    for reason in reasons:
        count = sum(entry["known"] == reason for entry in _log["known"])
        terminalreporter.write_line(f"network guard: refused {count} call(s): {reason}")


@pytest.fixture
def network_refusals():
    """A function returning what the guard refused since the test (or the last call) began:
    refusals the test takes are its own to judge and fail nothing by themselves."""
    return take_refusals
