"""The local Ray instance basin starts for itself stays on loopback."""

from __future__ import annotations

import ray


def test_the_local_instance_binds_to_loopback_only():
    # Started by conftest's fixture exactly as `basin run` starts it (no address given): its
    # node, GCS and object store must not listen on the machine's network address.
    nodes = ray.nodes()
    assert nodes, "the local Ray instance has no node"
    assert {node["NodeManagerAddress"] for node in nodes} == {"127.0.0.1"}
    assert ray.get_runtime_context().gcs_address.startswith("127.0.0.1:")
