"""The suite's network guard: a connection or a name lookup beyond loopback fails the test.

A PEP 578 audit hook (``sys.addaudithook``) sees every call of Python's socket module that
reaches the network: ``connect``/``connect_ex`` (event ``socket.connect``), ``sendto``,
``sendmsg``, and the lookups ``getaddrinfo``, ``gethostbyname(_ex)``, ``gethostbyaddr`` and
``getnameinfo``. One to an address or name outside loopback is refused (the caller gets the
error an offline machine gives: ``socket.gaierror`` for a lookup, ``ENETUNREACH`` for a connect,
so it takes its offline path instead of waiting; ``connect_ex`` raises it rather than return
it, as an audit hook can only raise) and written, one JSON line with the process and
the stack, to the log named by ``BASIN_NETWORK_GUARD``; ``tests/conftest.py`` fails the test
during which a line appeared.

Where it reaches:
- the test process (``tests/conftest.py`` installs it before anything else is imported);
- every Python process started under it that inherits the environment: Ray's workers, its
  dashboard and agents, ``basin`` or a benchmark script run as a subprocess. The folder of this
  file is put on their ``PYTHONPATH``, where its ``sitecustomize.py`` installs the hook at
  start-up; nothing is installed into site-packages.

What it does not see: sockets of code that does not go through Python's socket module (Ray's
raylet and GCS, gRPC's own resolver, torch's c10d, the AWS SDK inside pyarrow, the Go
``wandb-core``), a Python started with ``-S``/``-I`` or with its environment replaced, and
traffic of processes the suite did not start. ``strace -f -e trace=connect,sendto`` of a run
(docs/network.md, "No traffic beyond this machine") sees all of those.

Allowed: loopback addresses (127.0.0.0/8, ::1, and IPv4-mapped ``::ffff:127.x``), the
unspecified ones (0.0.0.0, ::, this host), this machine's own interface addresses (Linux's
``/proc/net/fib_trie`` and ``if_inet6``: traffic to them never leaves the machine; the tests'
two-node Ray cluster runs on them), loopback names (``localhost``, ``*.localhost``), this
machine's own host name (answered by ``/etc/hosts``), ``getaddrinfo`` of an address written as
numbers (no lookup: the connect that follows is judged), Unix and netlink sockets, and the
addresses or names listed in ``BASIN_NETWORK_GUARD_ALLOW`` (comma-separated: for a test that
brings its own network namespace; none does today). Reverse lookups are allowed for plain
loopback addresses only: ``/etc/hosts`` does not answer one for ``::ffff:127.0.0.1``, which goes
to the DNS server.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import os
import socket
import sys
import traceback

LOG_ENV = "BASIN_NETWORK_GUARD"
ALLOW_ENV = "BASIN_NETWORK_GUARD_ALLOW"
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
# Blocked but not a failure: traffic no setting of the library switches off. Ray 2.60's
# dashboard asks the cloud metadata addresses which cloud it runs on whenever it starts, before
# it reads RAY_USAGE_STATS_ENABLED (dashboard/modules/usage_stats/usage_stats_head.py, run());
# the dashboard of a cluster started by `ray start` (the tests' two-node cluster), its usage
# statistics off, reports to usage-stats.ray.io that they are off.
KNOWN = {("usage_lib.py", "get_cloud_from_metadata_requests"):
         "Ray's dashboard asks which cloud it runs on (no Ray setting switches it off)",
         ("usage_stats_head.py", "_report_disabled_usage_sync"):
         "the dashboard of a `ray start` cluster reports its usage statistics are off "
         "(no Ray setting switches it off)"}
LOOKUPS = {"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"}
REVERSE = {"socket.gethostbyaddr", "socket.getnameinfo"}
SENDS = {"socket.connect", "socket.sendto", "socket.sendmsg"}

_state: dict = {"log": None, "allowed": set(), "hostname": "", "own": set()}


def install(log_path: str) -> None:
    """Guard this process from now on, writing what it refuses to ``log_path`` (once per
    process: an audit hook cannot be removed)."""
    if _state["log"] is not None:
        return
    _state["log"] = log_path
    _state["allowed"] = {name.strip().lower() for name in
                         os.environ.get(ALLOW_ENV, "").split(",") if name.strip()}
    _state["hostname"] = socket.gethostname().lower()
    _state["own"] = _own_addresses()
    sys.addaudithook(_hook)


def _own_addresses() -> set:
    """This machine's interface addresses (Linux; none elsewhere): IPv4 from the kernel's
    routing trie (an address followed by ``/32 host LOCAL``), IPv6 from ``if_inet6``."""
    own: set = set()
    try:
        lines = open("/proc/net/fib_trie").read().splitlines()
        own |= {ipaddress.ip_address(before.split()[-1]) for before, line in zip(lines, lines[1:])
                if line.split()[:3] == ["/32", "host", "LOCAL"]}
    except (OSError, ValueError):
        pass
    try:
        own |= {ipaddress.ip_address(bytes.fromhex(line.split()[0]))
                for line in open("/proc/net/if_inet6").read().splitlines() if line.strip()}
    except (OSError, ValueError):
        pass
    return own


def _hook(event: str, args: tuple) -> None:
    if not event.startswith("socket."):
        return  # the fast path: every import and open passes through here
    refusal = _refusal(event, args)
    if refusal is None:
        return
    known = _known_caller()
    _record(event, refusal, known)
    if event in LOOKUPS or event in REVERSE:
        raise socket.gaierror(socket.EAI_NONAME, f"network guard: no lookup of {refusal}")
    raise OSError(errno.ENETUNREACH, f"network guard: no connection to {refusal}")


def _refusal(event: str, args: tuple) -> str | None:
    """What the call would reach beyond loopback, or None when it stays on this machine."""
    if event in LOOKUPS:
        numeric = args[0] is not None and _address(_text(args[0]).strip("[]")) is not None
        return None if numeric or _is_local(args[0]) else _text(args[0])
    if event in REVERSE:
        address = args[0][0] if isinstance(args[0], tuple) else args[0]
        return None if _is_loopback_for_reverse(address) else _text(address)
    if event in SENDS:
        sock, address = args[0], args[1]
        if address is None or getattr(sock, "family", None) not in (socket.AF_INET,
                                                                     socket.AF_INET6):
            return None  # a connected socket's send, a Unix or netlink socket
        return None if _is_local(address[0]) else f"{_text(address[0])}:{address[1]}"
    return None


def _text(host: object) -> str:
    return host.decode(errors="replace") if isinstance(host, bytes) else str(host)


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _is_local(host: object) -> bool:
    """A host (address or name) whose traffic stays on this machine."""
    if host is None:
        return True  # getaddrinfo(None, port): a passive lookup, no name
    name = _text(host).strip("[]").lower().rstrip(".")
    if name in ("", *_state["allowed"]):
        return True
    address = _address(name)
    if address is not None:
        return address.is_loopback or address.is_unspecified or address in _state["own"]
    return (name in LOOPBACK_NAMES or name.endswith(".localhost")
            or name == _state["hostname"])


def _is_loopback_for_reverse(host: object) -> bool:
    name = _text(host).strip("[]").lower()
    if name in _state["allowed"]:
        return True
    try:
        return ipaddress.ip_address(name.split("%")[0]).is_loopback  # not the mapped form
    except ValueError:
        return _is_local(name)  # gethostbyaddr(name) looks the name up first


def _known_caller() -> str | None:
    frame = sys._getframe(2)
    while frame is not None:
        reason = KNOWN.get((os.path.basename(frame.f_code.co_filename), frame.f_code.co_name))
        if reason:
            return reason
        frame = frame.f_back
    return None


def _record(event: str, target: str, known: str | None) -> None:
    """One JSON line per refusal, appended in a single write (several processes share it)."""
    frames = traceback.extract_stack()[:-2]  # without _hook and this function
    stack = [f"{frame.filename}:{frame.lineno} {frame.name}" for frame in frames[-12:]]
    line = json.dumps({"pid": os.getpid(), "argv": " ".join(sys.argv)[:200], "event": event,
                       "target": target, "known": known, "stack": stack}) + "\n"
    fd = os.open(_state["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def read_from(offset: int, log_path: str) -> tuple[list[dict], int]:
    """The refusals logged at ``offset`` and after, and the offset to read from next."""
    try:
        with open(log_path, "rb") as handle:
            handle.seek(offset)
            data = handle.read()
    except FileNotFoundError:
        return [], offset
    complete = data[:data.rfind(b"\n") + 1]  # a line still being written waits for next time
    return [json.loads(line) for line in complete.splitlines()], offset + len(complete)


def describe(entry: dict) -> str:
    """One refusal as the lines a failed test shows."""
    stack = "\n".join(f"      {frame}" for frame in entry["stack"][-6:])
    return (f"  {entry['event']} {entry['target']} (pid {entry['pid']}: {entry['argv']})\n"
            f"{stack}")
