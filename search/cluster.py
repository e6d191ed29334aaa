"""What the Ray cluster can hold: refuse trials that no node could ever run, before they start.

Ray would otherwise leave such a trial PENDING forever, waiting for a node that never comes.
"""

from __future__ import annotations

import math

import ray

from search.spec import SpecError, SweepSpec

# What the Tune function of a multi-worker trial reserves: it only drives the TorchTrainer.
DRIVER_CPU = 0.01


def _worker_need(spec: SweepSpec) -> dict[str, float]:
    resources = spec.resources
    return {"CPU": resources.cpus_per_worker, "GPU": resources.gpus_per_worker}


def workers_that_fit(node: dict[str, float], need: dict[str, float]) -> int:
    """How many workers with ``need`` one node's resources hold."""
    counts = [math.floor(node.get(name, 0) / amount + 1e-9)
              for name, amount in need.items() if amount > 0]
    return min(counts) if counts else 0


def _capacity_beside_driver(nodes: list[dict], need: dict[str, float], driver_node: int,
                            strict: bool) -> int:
    """Workers the cluster holds when the trial's driver sits on ``driver_node``."""
    fits = [workers_that_fit({**node, "CPU": node.get("CPU", 0) - DRIVER_CPU}
                             if index == driver_node else node, need)
            for index, node in enumerate(nodes)]
    return max(fits) if strict else sum(fits)


def check_feasible(spec: SweepSpec, source: str) -> None:
    """Raise ``SpecError`` if the cluster as it is can never hold one trial of the sweep.

    Skipped with ``resources.cluster_autoscales: true``: bigger nodes may join later.
    """
    if spec.resources.cluster_autoscales:
        return
    nodes = [node["Resources"] for node in ray.nodes() if node.get("Alive")]
    need = _worker_need(spec)
    fits = [workers_that_fit(node, need) for node in nodes]
    largest = {name: max((node.get(name, 0) for node in nodes), default=0) for name in need}
    have = ", ".join(f"{largest[name]:g} {name}" for name in need)
    want = ", ".join(f"{amount:g} {name}" for name, amount in need.items())
    hint = " (set resources.cluster_autoscales: true if larger nodes will join)"
    if not any(fits):
        field = "gpus_per_worker" if need["GPU"] > largest["GPU"] else "cpus_per_worker"
        raise SpecError([f"{source}: resources.{field}: no node can hold one worker (it needs "
                         f"{want}; the largest node has {have}){hint}"])
    workers = spec.resources.workers
    strict = spec.resources.placement_strategy == "STRICT_PACK"
    capacity = max(fits) if strict else sum(fits)
    if workers > 1:
        # The trial's own driver process reserves a sliver of a CPU on some node as well.
        capacity = max(_capacity_beside_driver(nodes, need, index, strict)
                       for index in range(len(nodes)))
    if capacity < workers:
        where = "one node holds" if strict else "the cluster holds"
        raise SpecError([f"{source}: resources.workers: a trial needs {workers} workers of "
                         f"{want} but {where} at most {capacity}{hint}"])
