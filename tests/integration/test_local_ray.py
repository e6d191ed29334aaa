"""The local Ray instance basin starts for itself stays on loopback."""

from __future__ import annotations

import os
import subprocess
import sys

import ray


def test_the_local_instance_binds_to_loopback_only():
    # Started by conftest's fixture exactly as `basin run` starts it (no address given): its
    # node, GCS and object store must not listen on the machine's network address.
    nodes = ray.nodes()
    assert nodes, "the local Ray instance has no node"
    assert {node["NodeManagerAddress"] for node in nodes} == {"127.0.0.1"}
    assert ray.get_runtime_context().gcs_address.startswith("127.0.0.1:")


def test_a_second_driver_joins_the_loopback_instance_by_its_address():
    # A second `basin` (or a test's driver) handed RAY_ADDRESS=127.0.0.1:port: Ray would
    # rewrite that to the network address, where the loopback head never answers.
    script = ("import ray\n"
              "from search.tune.cluster import join\n"
              "join(None)\n"
              "print('answer', ray.get(ray.remote(lambda: 7).remote()))\n")
    env = {**os.environ, "RAY_ADDRESS": ray.get_runtime_context().gcs_address}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=180)
    assert "answer 7" in done.stdout, done.stderr[-2000:]
