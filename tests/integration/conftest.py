"""One real local Ray instance for all integration tests (2 CPUs, as on CI), started the way
`basin run` starts it; every test of this folder is marked ``integration``."""

from __future__ import annotations

from pathlib import Path

import pytest
import ray

from search.tune.cluster import start_ray

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of this folder ``integration`` (real Ray, real training), so that none
    can be left in the quick tier (``-m "not integration"``) by a module that forgot to."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session", autouse=True)
def local_ray():
    # Ray as basin starts it (its workers' settings: the warm workers' thread timeout, ...),
    # with CI's two CPUs whatever this machine has.
    start_ray(num_cpus=2)
    yield
    ray.shutdown()
