"""Where basin's trials land on a Ray head that declares 4 GPUs (``fake_gpus.py``, in a process
and a Ray cluster of its own): 2-worker trials with a GPU each, strictly packed, run two at a
time and the third waits; half-GPU trials share a GPU two by two; a trial asking for more GPUs
than any node has is refused before it starts; and basin's real trainable, asked for a GPU on a
machine without CUDA, ends failed with one clear line instead of training on the CPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
PROJECT = Path(__file__).resolve().parents[2]


def _overlapping(intervals: list[tuple[float, float]]) -> int:
    """The most intervals that hold at one time."""
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    most = now = 0
    for _, change in events:
        now += change
        most = max(most, now)
    return most


@pytest.fixture(scope="module")
def placed(tmp_path_factory) -> tuple[list[dict], dict]:
    out = tmp_path_factory.mktemp("fake-gpus")
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    done = subprocess.run([sys.executable, "-m", "tests.integration.fake_gpus", str(out)],
                          cwd=PROJECT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    records = [json.loads(line) for line in (out / "placements.jsonl").read_text().splitlines()]
    return records, json.loads((out / "found.json").read_text())


def test_two_gpu_trials_strictly_packed_run_two_at_a_time(placed) -> None:
    records, _ = placed
    trials = defaultdict(list)
    for record in records:
        if record["kind"] == "group":
            trials[record["trial"]].append(record)
    assert len(trials) == 3 and all(len(workers) == 2 for workers in trials.values())
    spans = [(min(w["start"] for w in ws), max(w["end"] for w in ws)) for ws in trials.values()]
    assert _overlapping(spans) == 2  # 4 GPUs hold two trials of 2; the third waited
    for workers in trials.values():
        gpus = [gpu for w in workers for gpu in w["gpus"]]
        assert len(gpus) == len(set(gpus)) == 2  # a GPU each
        assert len({w["node"] for w in workers}) == 1  # STRICT_PACK: one node
        assert all(w["cuda_visible"] for w in workers)


def test_half_gpu_trials_share_a_gpu_two_by_two(placed) -> None:
    records, _ = placed
    solo = [r for r in records if r["kind"] == "solo"]
    assert len(solo) == 4 and all(len(r["gpus"]) == 1 for r in solo)
    by_gpu = defaultdict(list)
    for record in solo:
        by_gpu[record["gpus"][0]].append((record["start"], record["end"]))
    assert max(_overlapping(spans) for spans in by_gpu.values()) == 2
    assert all(_overlapping(spans) <= 2 for spans in by_gpu.values())


def test_a_trial_no_node_can_hold_is_refused_before_it_starts(placed) -> None:
    _, found = placed
    assert len(found["refused"]) == 1 and "gpus_per_worker" in found["refused"][0]


def test_the_real_trainable_refuses_to_train_on_the_cpu(placed) -> None:
    _, found = placed
    (outcome,) = found["no_cuda"]
    assert outcome["status"] == "failed"
    assert "resources.gpus_per_worker is 1 but this worker has no CUDA device" in \
        outcome["reason"]
    assert "\n" not in outcome["reason"]
