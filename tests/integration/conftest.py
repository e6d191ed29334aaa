"""One real local Ray instance for all integration tests (2 CPUs, as on CI), started the way
`basin run` starts it."""

from __future__ import annotations

import pytest
import ray

from search.tune.cluster import start_ray


@pytest.fixture(scope="session", autouse=True)
def local_ray():
    # Ray as basin starts it (its workers' settings: the warm workers' thread timeout, ...),
    # with CI's two CPUs whatever this machine has.
    start_ray(num_cpus=2)
    yield
    ray.shutdown()
