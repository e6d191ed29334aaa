"""Every test of this folder runs on the session's one local Ray instance and is marked
``integration``."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of this folder ``integration`` (real Ray, real training), so that none
    can be left in the quick tier (``-m "not integration"``) by a module that forgot to."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(autouse=True)
def on_local_ray(local_ray) -> None:
    """Every test here runs on the session's local Ray (tests/conftest.py)."""
