"""benchmarks/gpu_check.py's dry-run on the CPU (tiny models, a few steps): every case of the
GPU call runs, and its JSON holds every figure the GPU call reports, so that the one call a lent
GPU machine gets cannot fail on a typo. MFU and peak memory are CUDA's and read None here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration  # trains (DeepSpeed on CPU), about 40 s on 2 cores

PROJECT = Path(__file__).resolve().parents[2]
MODEL_CASES = ["smollm2-zero0", "smollm2-zero2", "smollm2-zero3", "llama1b-zero0",
               "llama1b-zero2"]
PLAIN_CASES = ["smollm2-plain", "llama1b-plain"]
BASIN_FIGURES = {"status", "wall_s", "zero_stage", "precision", "micro_batch_size", "steps",
                 "tokens_per_s", "tokens_per_s_first_window", "samples_per_s",
                 "tokens_per_sample", "flops_per_token", "mfu", "peak_memory_gib", "eval_s",
                 "save_s", "evaluations", "startup_s", "val_loss", "probe_max_difference",
                 "probe_bound", "probe_precision", "probe_reproduced"}
PLAIN_FIGURES = {"status", "wall_s", "tokens_per_s", "samples_per_s", "timed_steps",
                 "tokens_per_sample", "mfu", "peak_memory_gib", "precision"}


def test_the_dry_run_takes_every_case_and_reports_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "benchmarks.gpu_check", "--device", "cpu",
                           "--tiny", "--out", str(out), "--work", str(tmp_path / "work")],
                          cwd=PROJECT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    results = json.loads((out / "gpu_check.json").read_text())
    cases = results["cases"]
    assert list(cases) == ["smollm2-zero0", "smollm2-plain", "smollm2-zero2", "smollm2-zero3",
                           "llama1b-zero0", "llama1b-plain", "llama1b-zero2", "oom",
                           "gpu-tests"]
    assert {name: case["status"] for name, case in cases.items()} == dict.fromkeys(cases, "ok")
    for name in MODEL_CASES:
        assert BASIN_FIGURES <= set(cases[name]), name
        case = cases[name]
        assert case["zero_stage"] == int(name[-1]) and case["evaluations"] == 2
        assert case["tokens_per_s"] > 0 and case["eval_s"] > 0 and case["save_s"] > 0
        assert case["mfu"] is None and case["peak_memory_gib"] is None  # CUDA's figures
        # fp32 on the CPU: the re-loaded adapter computes the probe to float rounding.
        assert case["probe_precision"] == "fp32" and case["probe_reproduced"]
    for name in PLAIN_CASES:
        assert PLAIN_FIGURES <= set(cases[name]), name
    assert set(results["loop_ratio"]) == {"smollm2", "llama1b"}
    assert set(results["bases"]) == {"smollm2", "llama1b"}
    assert results["device"]["peak_bf16_tflops"] is None

    oom = cases["oom"]
    assert oom["ok"] and oom["simulated"] and oom["exit_code"] == 2 and not oom["traceback"]
    assert "training.micro_batch_size: 16 examples per micro-batch do not fit" in oom["message"]
    tests = cases["gpu-tests"]  # on the CPU they are collected, and skip
    assert tests["ok"] and "tests/trainables/recipe/test_gpu.py" in tests["files"]
    assert "skipped" in tests["summary"] and "failed" not in tests["summary"]

    table = (out / "gpu_check.md").read_text()
    assert table == done.stdout[done.stdout.index("gpu_check on "):]
    assert all(f"| {name} | ok |" in table for name in MODEL_CASES + PLAIN_CASES)
