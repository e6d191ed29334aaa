"""Ray's cluster as basin joins it, without starting Ray (tests/integration/test_local_ray.py
starts one)."""

from __future__ import annotations

import os
import socket

import pytest

from search.tune.cluster import _listens_beyond_loopback


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="Linux's table")
def test_a_head_on_loopback_only_is_told_from_one_on_every_address() -> None:
    # What decides whether a driver given 127.0.0.1:port keeps Ray on loopback, read from the
    # kernel's table of listening sockets: no connection to the machine's network address
    # (which Ray finds with a UDP connect to 8.8.8.8).
    with socket.socket() as loopback, socket.socket() as everywhere:
        loopback.bind(("127.0.0.1", 0))
        everywhere.bind(("0.0.0.0", 0))
        for sock in (loopback, everywhere):
            sock.listen()
        ports = [sock.getsockname()[1] for sock in (loopback, everywhere)]
        assert not _listens_beyond_loopback(ports[0])
        assert _listens_beyond_loopback(ports[1])
    assert not _listens_beyond_loopback(ports[1])  # closed: nobody listens there any more
