"""One real local Ray instance for all integration tests (2 CPUs, as on CI)."""

from __future__ import annotations

import pytest
import ray

from search.tune.cluster import start_ray


@pytest.fixture(scope="session", autouse=True)
def local_ray():
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    start_ray()  # a no-op on a running instance; keeps the runner's environment settings
    yield
    ray.shutdown()
