"""basin on a real two-node Ray cluster started on this machine, and requests no node can hold."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import pytest

from search.cli.main import main
from search.store import trial_folder
from trainables.trial.entry import _free_port as free_port

pytestmark = pytest.mark.integration


def test_a_worker_no_node_can_hold_is_refused_before_anything_starts(sweep_factory, tmp_path,
                                                                       capsys):
    sweep = sweep_factory(resources={"workers": 1, "gpus_per_worker": 1})
    assert main(["run", str(sweep)]) == 2
    error = capsys.readouterr().err.strip()
    assert error == (f"{sweep}: resources.gpus_per_worker: no node can hold one worker (it needs "
                     "1 CPU, 1 GPU; the largest node has 2 CPU, 0 GPU) (set "
                     "resources.cluster_autoscales: true if larger nodes will join)")
    # Two workers of one CPU pass the check against this machine's 2 cores, but not Ray's: the
    # trial's driver needs a sliver of a CPU too.
    too_many = sweep_factory("many.yaml", resources={"workers": 2, "cpus_per_worker": 1})
    assert main(["run", str(too_many)]) == 2
    assert "resources.workers: a trial needs 2 workers of 1 CPU, 0 GPU but the cluster holds " \
           "at most 1" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def _wait_for_port(port: int, seconds: float) -> None:
    """Until the head's GCS accepts connections (a fixed sleep is too short on a busy machine
    and wasted on an idle one)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"the head node never listened on 127.0.0.1:{port}")


@pytest.fixture
def two_node_cluster(tmp_path):
    """A head node and a second node on this machine, 1 CPU each, with their own ports."""
    port = free_port()
    address = f"127.0.0.1:{port}"
    # Its own temp dir: `ray start` records its cluster there, not in /tmp/ray, where a plain
    # ray.init() would later try to join it.
    temp_dir = tempfile.mkdtemp(prefix="rt", dir="/tmp")
    common = ["--num-cpus=1", "--num-gpus=0", "--block", "--disable-usage-stats",
              f"--temp-dir={temp_dir}"]
    head = subprocess.Popen(["ray", "start", "--head", f"--port={port}", "--node-ip-address",
                             "127.0.0.1", "--include-dashboard=false", *common],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    nodes = [head]
    try:
        _wait_for_port(port, seconds=60)
        nodes.append(subprocess.Popen(["ray", "start", f"--address={address}",
                                       "--node-ip-address", "127.0.0.1", *common],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        count = "import ray; ray.init(address='%s'); print(len([n for n in ray.nodes() if n['Alive']]))"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            done = subprocess.run([sys.executable, "-c", count % address], capture_output=True,
                                  text=True)
            if done.stdout.strip().endswith("2"):
                break
            time.sleep(2)
        else:
            pytest.fail("the second node never joined")
        yield address
    finally:
        for node in reversed(nodes):
            node.terminate()
            node.wait(timeout=60)
        shutil.rmtree(temp_dir, ignore_errors=True)


def _basin_run(sweep, address, tmp_path) -> dict:
    env = {key: value for key, value in os.environ.items() if key != "RAY_ADDRESS"}
    done = subprocess.run([sys.executable, "-m", "search.cli.main", "run", str(sweep), "--quiet",
                           "--address", address], env=env, capture_output=True, text=True,
                          timeout=400)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    run_dir = max((tmp_path / "runs").iterdir(), key=lambda p: p.stat().st_mtime)
    return {"run_dir": run_dir, "results": json.loads((run_dir / "results.json").read_text())}


def _reports(run_dir) -> list[list[dict]]:
    return [[json.loads(line) for line in folder.joinpath("result.json").read_text().splitlines()]
            for folder in trial_folder.trial_folders_in(run_dir).values()]


def test_sweep_on_a_two_node_cluster_uses_both_nodes_and_spans_a_trial_across_them(
        two_node_cluster, sweep_factory, tmp_path):
    # Two one-worker trials at once: one per node (each node has one CPU).
    sweep = sweep_factory(search={"num_trials": 2, "max_concurrent_trials": 2},
                          tracking={"wandb": {"mode": "disabled"}})
    run = _basin_run(sweep, two_node_cluster, tmp_path)
    nodes = {rows[-1]["node_id"] for rows in _reports(run["run_dir"])}
    assert len(nodes) == 2

    # One trial of two DeepSpeed workers, one on each node (half a CPU each: the trial's
    # driver process needs a sliver of a CPU too).
    spread = sweep_factory("spread.yaml", search={"num_trials": 1},
                           resources={"workers": 2, "cpus_per_worker": 0.5,
                                      "placement_strategy": "STRICT_SPREAD"},
                           tracking={"wandb": {"mode": "disabled"}})
    run = _basin_run(spread, two_node_cluster, tmp_path)
    (rows,) = _reports(run["run_dir"])
    assert {row["world_size"] for row in rows} == {2}
    assert run["results"]["trials"][0]["outcome"]["status"] == "completed"
