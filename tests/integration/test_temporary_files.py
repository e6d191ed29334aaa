"""Nothing a sweep writes outside its run directory outlives it: every checkpoint a trial
saves into the temporary folder is removed once Ray has copied it, the last one too, also
when ASHA ends a trial right after a report."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import tiny_sweep, write_sweep

pytestmark = pytest.mark.integration

PROJECT = Path(__file__).resolve().parents[2]


def test_no_temporary_checkpoint_outlives_its_trial(tmp_path):
    sweep = write_sweep(tmp_path / "sweep.yaml", tiny_sweep(
        tmp_path, search={"num_trials": 4, "max_concurrent_trials": 2, "seed": 0},
        scheduler={"type": "asha", "grace_period": 4, "reduction_factor": 2}))
    # A private, short TMPDIR (Ray puts its sockets there too: their paths must stay short), for
    # a sweep in its own process so that its Ray workers inherit it.
    private = Path(tempfile.mkdtemp(prefix="bt", dir="/tmp"))
    try:
        done = subprocess.run([sys.executable, "-m", "search.cli.main", "run", str(sweep)],
                              cwd=PROJECT, env={**os.environ, "TMPDIR": str(private)},
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert "pruned: asha" in done.stdout  # some trial was ended by the scheduler
        assert sorted(private.glob("basin-ckpt-*")) == []
    finally:
        shutil.rmtree(private, ignore_errors=True)
