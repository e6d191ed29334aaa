"""What the Ray cluster can hold: refuse trials that no node could ever run, before they start.

Ray would otherwise leave such a trial PENDING forever, waiting for a node that never comes.
"""

from __future__ import annotations

import ipaddress
import math
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import ray

from search.core.errors import SpecError
from search.spec.model import SweepSpec
from search.store.object_store import METADATA_OFF_ENV

# What the Tune function of a multi-worker trial reserves: it only drives the TorchTrainer.
DRIVER_CPU = 0.01


# Long enough for a slow network, short enough that a wrong address is said within 15 s
# (Ray itself retries for minutes).
ADDRESS_PROBE_SECONDS = 10.0
GCS_CONNECT_ATTEMPTS = 8


# Ray waits this long for an ended trial's thread before reusing its worker (start_ray).
THREAD_TIMEOUT_ENV = "TUNE_FUNCTION_THREAD_TIMEOUT_S"

# What every process of a local instance basin starts reads from the environment it inherits
# (the head's dashboard and agents, the raylet, the workers it starts later). Without them a
# sweep on one machine made traffic beyond it: a process that looks up its own address
# "connects" a UDP socket to 8.8.8.8 to learn it (``node_ip_address_from_perspective``, unless
# clusters are off: the environment's form of ``ENABLE_RAY_CLUSTER``, see
# ``_bind_local_instance_to_loopback``), and Ray's usage statistics, on by default, are posted
# to usage-stats.ray.io a minute after the start and hourly. A user's own setting wins. (Ray
# 2.60's dashboard still asks the cloud metadata addresses which cloud it runs on when it
# starts, whatever the setting: usage_stats_head.py, run(); no setting switches that off.)
LOCAL_INSTANCE_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}



def start_ray(address: str | None = None, num_cpus: int | None = None) -> None:
    """Connect to a Ray cluster (``address``, else ``RAY_ADDRESS``; ``auto`` finds a local
    one), or start a quiet local instance on loopback (with ``num_cpus``, default: the
    machine's)."""
    address = address or os.environ.get("RAY_ADDRESS")
    # Snapshots at every evaluation (see fit) are cheap on basin's sweeps; Ray's warning about
    # them is noise.
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    if ray.is_initialized():
        return
    # Ray hands a warm worker to its next trial only once the ended trial's thread has
    # finished, waiting TUNE_FUNCTION_THREAD_TIMEOUT_S (2 s by default) before it fails the
    # *next* trial instead (ray-project/ray#41362). A large model's teardown (engine, memory)
    # may take longer than that; a minute is a generous bound.
    env_vars = {"TOKENIZERS_PARALLELISM": "false",
                THREAD_TIMEOUT_ENV: os.environ.get(THREAD_TIMEOUT_ENV, "60")}
    # An object store's client in a trial (Ray's storage, the candidate store) is made from
    # the same URI as the driver's: keep it off the EC2 metadata service too where the
    # driver's is (a local instance inherits it; a cluster's nodes get it here).
    if METADATA_OFF_ENV in os.environ:
        env_vars[METADATA_OFF_ENV] = os.environ[METADATA_OFF_ENV]
    # Worker output (DeepSpeed's banners, HF warnings) would drown basin's own progress lines.
    options: dict = {"num_cpus": num_cpus} if num_cpus is not None else {}
    local = address in (None, "", "local")
    if local:
        address = "local"
        _bind_local_instance_to_loopback()
    elif _head_on_loopback_only(address):
        # A driver given such a head's address (a second `basin` beside the first, a test)
        # must stay on loopback too: Ray would turn 127.0.0.1 into the network address, where
        # nothing answers, and wait there for minutes.
        _bind_local_instance_to_loopback()
    # Only while ray.init starts the local instance's processes: a later `ray start` from
    # this process (a worker node joining a cluster) must not inherit "clusters are off".
    with _environment(LOCAL_INSTANCE_ENV if local else {}):
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 runtime_env={"env_vars": env_vars}, **options)


@contextmanager
def _environment(settings: dict[str, str]) -> Iterator[None]:
    """``settings`` in ``os.environ`` for the duration (a value already set wins), then as
    before."""
    added = [key for key in settings if key not in os.environ]
    os.environ.update({key: settings[key] for key in added})
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


def _bind_local_instance_to_loopback() -> None:
    """Make the local instance basin starts for itself listen on loopback only.

    Ray binds a new head (GCS, raylet, object store, workers) to the machine's first network
    address, so that other machines could join it; no machine ever joins an instance basin
    starts for one sweep, and every call between driver and workers would leave through that
    interface. ``ray.init(_node_ip_address="127.0.0.1")`` does not help: Ray turns a loopback
    address back into the network one (``services.resolve_ip_for_localhost``). It keeps a head
    on loopback only where clusters are off (``ray_constants.ENABLE_RAY_CLUSTER``, read at
    each call of ``services.get_node_ip_address``; off by default on macOS and Windows), so
    basin turns that off for its own local instance; a cluster address is left alone.
    ``tests/integration/test_local_ray.py`` fails if a Ray release stops honouring it.
    """
    from ray._private import ray_constants

    ray_constants.ENABLE_RAY_CLUSTER = False


def _head_on_loopback_only(address: str) -> bool:
    """Whether ``address`` (host:port, or ``auto``: the newest head on this machine) names a
    head that listens on loopback only, as the local instances of ``start_ray`` do. A head
    started with ``ray start --head`` also listens on the network address, where Ray's own
    rewriting of loopback addresses keeps working.

    Read from the kernel's tables of listening sockets rather than by connecting to the
    network address: Ray finds that address by connecting a UDP socket to 8.8.8.8.
    """
    from ray._private import services, utils

    if address == "auto":
        address = utils.read_ray_address() or ""
    host, sep, port = address.rpartition(":")
    if address.startswith("ray://") or not sep or not port.isdigit() \
            or not services.is_localhost(host.strip("[]")):
        return False
    return not _listens_beyond_loopback(int(port))


def _listens_beyond_loopback(port: int) -> bool:
    """Whether a socket of this machine listens on ``port`` at an address other than
    loopback (all addresses included), by Linux's ``/proc/net/tcp`` and ``tcp6``. Elsewhere
    False: Ray turns no loopback address into another on macOS and Windows (its clusters are
    off there), so there is nothing to keep it from."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = [line.split() for line in Path(table).read_text().splitlines()[1:]]
        except OSError:
            continue
        for local, state in ((row[1], row[3]) for row in rows if len(row) > 3):
            hex_address, _, hex_port = local.rpartition(":")
            if state == "0A" and int(hex_port, 16) == port \
                    and not _is_loopback(bytes.fromhex(hex_address)):  # 0A: LISTEN
                return True
    return False


def _is_loopback(raw: bytes) -> bool:
    """A /proc/net address (32-bit words in the machine's order, little-endian on every
    machine Ray runs on) is a loopback one: 127.0.0.0/8, ::1, ::ffff:127.x."""
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    address = ipaddress.ip_address(words)
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def _given_address(address: str | None) -> tuple[str | None, str]:
    """(the address Ray will connect to, where the user gave it), or (None, ...) when Ray
    finds or starts the cluster itself (no address, ``auto``, ``local``)."""
    flag = "--address"
    if not address:
        address, flag = os.environ.get("RAY_ADDRESS"), "RAY_ADDRESS"
    return (None if address in ("auto", "local") else address or None), flag


def address_problem(address: str | None) -> str | None:
    """Why the cluster at ``address`` (else ``RAY_ADDRESS``) cannot be reached, in one line, or
    None. ``auto`` and no address at all are left to Ray (a local cluster, or a new one)."""
    address, flag = _given_address(address)
    if address is None:
        return None
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not host or not port.isdigit():
        return f"{flag}: expected host:port, e.g. 10.0.0.5:6379 (got {address!r})"
    try:
        socket.create_connection((host, int(port)), timeout=ADDRESS_PROBE_SECONDS).close()
    except OSError as error:
        return _no_cluster(flag, address, error.strerror or str(error))
    return None


def _no_cluster(flag: str, address: str, why: str) -> str:
    return (f"{flag}: no Ray cluster answers at {address} ({why}); check the address, or start "
            f"the head node with `ray start --head`")


def join(address: str | None) -> None:
    """Connect to the cluster at ``address`` (else ``RAY_ADDRESS``), or start a local Ray.

    A wrong address is a ``SpecError`` in one line within ~15 s: the port must accept a
    connection, and Ray gets 8 attempts (about a second each) to find a GCS behind it instead
    of its default 20, with its retry messages kept off the terminal.
    """

    problem = address_problem(address)
    if problem:
        raise SpecError([problem])
    given, flag = _given_address(address)
    if given is None or given.startswith("ray://"):
        start_ray(address)
        return
    try:
        with _connect_attempts(GCS_CONNECT_ATTEMPTS), _stderr_silenced():
            start_ray(address)
    except (ConnectionError, RuntimeError) as error:
        cause = error.__cause__ or error
        why = " ".join(str(cause).split("Last connection error")[0].split())[:200]
        raise SpecError([_no_cluster(flag, given, why)]) from None


@contextmanager
def _connect_attempts(attempts: int) -> Iterator[None]:
    """Ray reads this budget (``RAY_gcs_server_port_wait_time_s``, one attempt a second) when it
    connects; a user's own setting wins."""
    key = "RAY_gcs_server_port_wait_time_s"
    saved = os.environ.get(key)
    os.environ.setdefault(key, str(attempts))
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(key, None)


@contextmanager
def _stderr_silenced() -> Iterator[None]:
    """Ray's C++ client logs every failed attempt to stderr, below Python's logging."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


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
