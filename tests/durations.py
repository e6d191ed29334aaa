"""Where the suite's time goes: every test's time (setup, call and teardown together), slowest
first, written to ``test-durations.txt`` at the project root when the run ends, and the total
per module printed under pytest's own ``--durations`` list, so that a CI log shows both.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
REPORT = PROJECT / "test-durations.txt"
_seconds: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _seconds[report.nodeid] += report.duration


def by_module(seconds: dict[str, float]) -> list[tuple[str, float]]:
    """The time of each test module, slowest first."""
    modules: dict[str, float] = defaultdict(float)
    for nodeid, spent in seconds.items():
        modules[nodeid.split("::", 1)[0]] += spent
    return sorted(modules.items(), key=lambda item: -item[1])


def pytest_terminal_summary(terminalreporter, exitstatus: int) -> None:
    if not _seconds:
        return
    tests = sorted(_seconds.items(), key=lambda item: -item[1])
    REPORT.write_text("".join(f"{spent:9.2f}s  {nodeid}\n" for nodeid, spent in tests))
    modules = by_module(_seconds)
    terminalreporter.section("time per test module (every test's: " + REPORT.name + ")")
    for module, spent in modules[:15]:
        terminalreporter.write_line(f"{spent:9.1f}s  {module}")
    terminalreporter.write_line(f"{sum(_seconds.values()):9.1f}s  in all, {len(tests)} tests")
