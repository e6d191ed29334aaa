"""A sweep's start: everything before the first trial. What the sweep points at is checked
(data, model, output_dir, the study database and object stores), Ray is up and can hold the
trials, and the run directory exists."""

from __future__ import annotations

from search.core.errors import SpecError
from search.lifecycle.preflight import preflight
from search.spec.model import SweepSpec
from search.store.rundir import RunDir


def check_stores(spec: SweepSpec, source: str) -> None:
    """Refuse a study database or an object store that cannot be reached, before Ray or any
    trial starts."""
    from search.core import uris
    from search.store import object_store as store
    from search.store.study import check_reachable

    problem = check_reachable(spec.search.storage)
    if problem:
        raise SpecError([f"{source}: search.storage: {problem}"])
    if uris.is_object_store(spec.output_dir):
        try:
            store.check_reachable(spec.output_dir)
        except store.LocationError as error:
            raise SpecError([f"{source}: output_dir: cannot reach it: {error}"]) from error


def connect(spec: SweepSpec, address: str | None, source: str) -> None:
    """Connect to (or start) Ray and refuse trials that no node of it could ever hold."""
    from search.tune.cluster import check_feasible, join

    join(address)
    check_feasible(spec, source)


def start(spec: SweepSpec, source: str, address: str | None = None) -> RunDir:
    """Everything before the first trial: what the sweep points at checked (data, model,
    output_dir, stores), Ray up, the run directory made."""
    preflight(spec, source, address)  # converts a built-in model that needs it, once
    check_stores(spec, source)
    connect(spec, address, source)
    return RunDir.create(spec)
