"""A one-worker trial's process group (trainables/trial/entry.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_a_group_of_one_meets_nobody_over_the_network() -> None:
    # Its store lives in the process. A TCPStore on loopback made torch's c10d name its peer,
    # ::ffff:127.0.0.1, with a reverse DNS lookup that /etc/hosts does not answer: a query to
    # the machine's resolver at every trial's start, in C++ where the network guard cannot see
    # it. A fresh process: a group is made once per process.
    code = ("import torch, torch.distributed as dist\n"
            "from torch.distributed.distributed_c10d import _get_default_store\n"
            "from trainables.trial.entry import init_single_process_group\n"
            "init_single_process_group('gloo')\n"
            "t = torch.ones(2); dist.all_reduce(t)\n"
            "print(type(_get_default_store().underlying_store).__name__, "
            "dist.get_world_size(), t.tolist())\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    assert done.stdout.split("\n")[-2] == "HashStore 1 [1.0, 1.0]"
