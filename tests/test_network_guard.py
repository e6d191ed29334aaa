"""The suite's network guard (tests/netguard/): what it refuses, in this process and in the
processes the tests start, and that a refusal fails the test it happened in."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import basin_network_guard as guard  # on sys.path: tests/netguard/plugin.py puts it there
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOWHERE = "basin-guard-test.invalid"  # .invalid: never resolves (RFC 6761)


def test_this_machine_passes(network_refusals) -> None:
    # Loopback, this machine's own name and addresses; an address written as numbers is no
    # lookup (the connect after it is judged).
    for host in ("localhost", "127.0.0.1", "::1", socket.gethostname(), None, "192.0.2.1"):
        socket.getaddrinfo(host, 80)
    own = [(socket.AF_INET6 if address.version == 6 else socket.AF_INET, str(address))
           for address in guard._own_addresses() if not address.is_link_local]
    for family, host in [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1"), *own]:
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.connect((host, 9))
    assert socket.gethostbyaddr("127.0.0.1")
    assert network_refusals() == []


def test_lookups_and_connections_beyond_loopback_are_refused(network_refusals) -> None:
    with pytest.raises(socket.gaierror, match="network guard"):
        socket.getaddrinfo(NOWHERE, 443)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        # What Ray did to learn its own address: no packet, but a route beyond the machine.
        with pytest.raises(OSError, match="network guard"):
            sock.connect(("8.8.8.8", 80))
        with pytest.raises(OSError, match="network guard"):
            sock.connect_ex(("192.0.2.1", 80))  # the same event (it raises: a hook can only)
        with pytest.raises(OSError, match="network guard"):
            sock.sendto(b"x", ("169.254.169.254", 80))
    with pytest.raises(socket.gaierror, match="network guard"):
        socket.gethostbyaddr("::ffff:127.0.0.1")  # /etc/hosts does not answer it: DNS does
    refused = [(entry["event"], entry["target"]) for entry in network_refusals()]
    assert refused == [("socket.getaddrinfo", NOWHERE), ("socket.connect", "8.8.8.8:80"),
                       ("socket.connect", "192.0.2.1:80"),
                       ("socket.sendto", "169.254.169.254:80"),
                       ("socket.gethostbyaddr", "::ffff:127.0.0.1")]


def test_a_python_process_the_tests_start_is_guarded_too(network_refusals) -> None:
    code = (f"import socket\ntry:\n    socket.getaddrinfo({NOWHERE!r}, 443)\n"
            f"except socket.gaierror as error:\n    print(error)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert "network guard" in done.stdout
    (entry,) = network_refusals()
    assert entry["target"] == NOWHERE and entry["pid"] != os.getpid()


def test_a_refusal_fails_the_test_it_happened_in(tmp_path: Path) -> None:
    """pytest run on a suite of two tests under the guard: the one that looks a name up fails,
    naming it; the other passes."""
    (tmp_path / "conftest.py").write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from tests.netguard import plugin

        plugin.start(Path({str(tmp_path / "guard.log")!r}))

        def pytest_configure(config):
            config.pluginmanager.register(plugin, "network-guard")
    """))
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(f"""
        import socket

        def test_looks_up_a_name():
            try:
                socket.getaddrinfo({NOWHERE!r}, 443)
            except OSError:
                pass  # swallowed, as libraries do: the guard still fails the test

        def test_stays_home():
            socket.getaddrinfo("localhost", 443)
    """))
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-o", "addopts=", str(tmp_path)], capture_output=True, text=True,
                          cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed, 1 passed" in done.stdout
    assert "FAILED test_inner.py::test_looks_up_a_name" in done.stdout
    assert "the network guard refused 1 call(s) beyond loopback during the test" in done.stdout
    assert f"socket.getaddrinfo {NOWHERE}" in done.stdout
