"""basin's recipe on a GPU, in one call (issue 51): ``basin train`` in bf16 under DeepSpeed
ZeRO 0, 2 and 3 on SmolLM2-135M's shape, and ZeRO 0 and 2 on a ~1B Llama with LoRA r=16 on
every linear layer; for each, tokens per second, MFU against the card's bf16 peak, peak GPU
memory, seconds per evaluation and per checkpoint save, and the saved adapter re-loaded against
the trial's probe (within the bf16 bound); a plain PyTorch loop on the same model, LoRA and
batches (the ratio basin / plain, target within 5%); a micro-batch far too large (basin's one
line, not CUDA's traceback); and the suite's GPU tests (``pytest -m gpu``).

The lent GPU machine has torch, transformers, peft and accelerate but no network: fill
``gpu_wheels/`` here first (``bash benchmarks/gpu_wheels.sh``, ~15 MiB), then, there, in the
repository's root, with ``gpu_wheels`` carried, one command (about 4 minutes, estimated from
the parts: no GPU has run it yet; each case bounded, all of them within ``--budget`` seconds):

    set -o pipefail; python3 -m pip install -q --no-index --no-deps --no-compile --upgrade --target /tmp/site --find-links gpu_wheels -r gpu_wheels/requirements.txt && PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1 python3 -m benchmarks.gpu_check --budget 360 2>&1 | tee $OUT/gpu_check.log

Figures go to ``$OUT`` (else ``--out``): gpu_check.json (every figure) and gpu_check.md (the
table it prints). SmolLM2's weights (a 94 MiB GGUF file) cannot travel: that case trains a
model of its shape and tokenizer with random weights, which costs the same per token.

The dry-run on the CPU takes every path but the CUDA-only figures (MFU and peak memory read
n/a; the out-of-memory error is raised by hand), with tiny models, in under a minute on 2
cores (tests/benchmarks/test_gpu_check.py runs it):

    python -m benchmarks.gpu_check --device cpu --tiny --out /tmp/gpu-check
"""  # noqa: E501 (the command above is one line, to be copied whole)

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from benchmarks.gpu_cases import (
    Shape,
    basin_case,
    build_base,
    peak_tflops,
    shapes,
    tokenizer_folder,
    write_sweep,
)
from benchmarks.gpu_more_cases import gpu_tests_case, oom_case, plain_case

# Each case's bound in seconds on a GPU, about 3 to 5 times what its parts should take there
# (estimated: no GPU has run it yet). ZeRO-3 gathers every weight at every forward pass, in
# generation too; the 1e9-weight model's folder is written, read, and re-loaded on the CPU
# for the probe; the GPU tests start a Python of their own.
BOUNDS = {"smollm2": 90, "smollm2-zero3": 150, "llama1b": 150, "oom": 150, "gpu-tests": 240}


class CaseTimeout(Exception):
    """A case ran past its bound."""


def bounded(seconds: float, case: Callable[[], dict]) -> dict[str, Any]:
    """Run one case within ``seconds`` (SIGALRM): its figures, or why it has none."""
    def alarm(signum: int, frame: Any) -> None:
        raise CaseTimeout(f"ran past its bound of {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(max(1, int(seconds)))
    started = time.perf_counter()
    try:
        result = {"status": "ok", **case()}
    except CaseTimeout as error:
        result = {"status": "timeout", "error": str(error)}
    except Exception as error:  # one case's failure must not cost the other cases' figures
        result = {"status": "failed", "error": f"{type(error).__name__}: {error}"[:2000],
                  "traceback": traceback.format_exc()[-4000:]}
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    result["wall_s"] = round(time.perf_counter() - started, 2)
    return result


def device_facts(device: str) -> dict[str, Any]:
    """What the figures were measured on."""
    from importlib.metadata import version

    import torch

    name = torch.cuda.get_device_name(0) if device == "cuda" else platform.processor() or "cpu"
    return {"device": device, "name": name, "peak_bf16_tflops": peak_tflops(name)
            if device == "cuda" else None, "python": platform.python_version(),
            "cpus": os.cpu_count(), "torch": torch.__version__, "cuda": torch.version.cuda,
            **{package: version(package) for package in ("transformers", "peft", "deepspeed")}}


class Check:
    """The cases in order, each bounded; the JSON rewritten after each (a cut-off call keeps
    what finished)."""

    def __init__(self, args: argparse.Namespace):
        self.args, self.work = args, args.work
        self.started = time.perf_counter()
        self.tokenizer = tokenizer_folder()
        self.shapes = shapes(args.tiny, self.tokenizer)
        self.facts = device_facts(args.device)
        self.results: dict[str, Any] = {"device": self.facts, "args": {
            key: str(value) for key, value in vars(args).items()}, "cases": {}, "bases": {}}
        self.bases: dict[str, Path] = {}

    def left(self) -> float:
        """Seconds of the budget not yet spent."""
        return self.args.budget - (time.perf_counter() - self.started)

    def run(self, name: str, bound: int, case: Callable[[], dict]) -> dict:
        """One case, unless the budget cannot give it a fair part of its bound."""
        if self.args.cases and not any(name.startswith(c) for c in self.args.cases):
            return {}
        if self.left() < min(bound, 30):
            result = {"status": "skipped", "error": f"{self.left():.0f} s of the budget left"}
        else:
            print(f"== {name} (bound {min(bound, self.left()):.0f} s)", flush=True)
            result = bounded(min(bound, self.left()), case)
        self.results["cases"][name] = result
        print(f"== {name}: {result['status']} in {result.get('wall_s', 0):.1f} s "
              f"{result.get('error', '')}", flush=True)
        self.save()
        return result

    def base(self, shape: Shape) -> Path:
        """The shape's random-weight model folder, built once."""
        if shape.name not in self.bases:
            folder = self.work / "bases" / shape.name
            started = time.perf_counter()
            facts = build_base(shape, folder, self.tokenizer, self.args.device)
            self.results["bases"][shape.name] = {
                **facts, "build_s": round(time.perf_counter() - started, 2),
                "config": shape.config, "lora_targets": shape.targets}
            self.bases[shape.name] = folder
        return self.bases[shape.name]

    def sweep(self, shape: Shape, stage: int) -> Path:
        """The shape's best.yaml-like sweep file at this ZeRO stage."""
        (self.work / "sweeps").mkdir(parents=True, exist_ok=True)
        return write_sweep(self.work / "sweeps" / f"{shape.name}-zero{stage}.yaml", shape,
                           self.base(shape), stage, self.args.device)

    def model_cases(self, shape: Shape) -> None:
        """basin at each ZeRO stage, and the plain loop after ZeRO 0 (the same sweep file)."""
        peak = self.facts["peak_bf16_tflops"]
        for stage in shape.zero_stages:
            name = f"{shape.name}-zero{stage}"
            bound = BOUNDS.get(name, BOUNDS[shape.name])
            self.run(name, bound, lambda: basin_case(
                self.sweep(shape, stage), self.base(shape), shape, self.args.device, peak,
                lambda line: print(f"   {line}", flush=True)))
            if stage == 0:
                self.run(f"{shape.name}-plain", bound, lambda: plain_case(
                    self.sweep(shape, 0), self.base(shape), shape, self.args.device, peak))

    def all(self) -> dict:
        """Every case, then the ratios; the JSON and the table written."""
        for shape in self.shapes.values():
            self.model_cases(shape)
        smollm2 = self.shapes["smollm2"]
        self.run("oom", BOUNDS["oom"], lambda: oom_case(
            self.sweep(smollm2, 0), self.args.device, self.args.tiny))
        self.run("gpu-tests", BOUNDS["gpu-tests"], lambda: gpu_tests_case(BOUNDS["gpu-tests"]))
        cases = self.results["cases"]
        self.results["loop_ratio"] = {
            name: cases[f"{name}-zero0"]["tokens_per_s"] / cases[f"{name}-plain"]["tokens_per_s"]
            for name in self.shapes if "tokens_per_s" in cases.get(f"{name}-zero0", {})
            and "tokens_per_s" in cases.get(f"{name}-plain", {})}
        self.results["wall_s"] = round(time.perf_counter() - self.started, 1)
        self.save()
        return self.results

    def save(self) -> None:
        """Write every figure so far to gpu_check.json."""
        self.args.out.mkdir(parents=True, exist_ok=True)
        (self.args.out / "gpu_check.json").write_text(
            json.dumps(self.results, indent=2, default=str))


def _figure(value: Any, form: str, scale: float = 1.0) -> str:
    return "n/a" if value is None else format(value * scale, form)


def markdown(results: dict) -> str:
    """The table of every model case, then the ratios, the OOM line and the GPU tests."""
    facts = results["device"]
    lines = [f"gpu_check on {facts['name']} ({facts['device']}; torch {facts['torch']}, "
             f"deepspeed {facts['deepspeed']}), {results.get('wall_s', '?')} s",
             "", "| case | status | tokens/s | MFU | peak GiB | s/eval | s/save | probe diff "
             "(bound) | wall s |", "|---|---|---|---|---|---|---|---|---|"]
    for name, case in results["cases"].items():
        if name in ("oom", "gpu-tests"):
            continue
        probe = (f"{case['probe_max_difference']:.2e} ({case['probe_bound']:g}, "
                 f"{'ok' if case['probe_reproduced'] else 'NOT reproduced'})"
                 if "probe_bound" in case else "")
        lines.append(
            f"| {name} | {case['status']} | {_figure(case.get('tokens_per_s'), '.0f')} | "
            f"{_figure(case.get('mfu'), '.1f', 100)}{'%' if case.get('mfu') else ''} | "
            f"{_figure(case.get('peak_memory_gib'), '.2f')} | "
            f"{_figure(case.get('eval_s'), '.2f')} | {_figure(case.get('save_s'), '.2f')} | "
            f"{probe} | {case['wall_s']:.1f} |")
    lines.append("")
    for name, ratio in results.get("loop_ratio", {}).items():
        lines.append(f"- {name}: basin's loop / plain loop = {ratio:.3f} (target >= 0.95)")
    oom = results["cases"].get("oom", {})
    lines.append(f"- out of memory ({'simulated' if oom.get('simulated') else 'real'}): "
                 f"{oom.get('status')}, exit {oom.get('exit_code')}, traceback "
                 f"{oom.get('traceback')}: {oom.get('message', oom.get('error'))}")
    tests = results["cases"].get("gpu-tests", {})
    lines.append(f"- pytest -m gpu: {tests.get('status')}: "
                 f"{tests.get('summary', tests.get('error'))}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line; the work folder made when none is given."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--tiny", action="store_true", help="tiny models, a few steps")
    parser.add_argument("--out", type=Path, default=Path(os.environ["OUT"])
                        if os.environ.get("OUT") else None, help="default: $OUT")
    parser.add_argument("--work", type=Path, default=None,
                        help="model folders and checkpoints (default: a temporary folder)")
    parser.add_argument("--budget", type=float, default=360,
                        help="seconds for all cases; a case that cannot start is skipped")
    parser.add_argument("--cases", nargs="*", default=[],
                        help="only the cases whose names start so (smollm2, llama1b-zero2, oom)")
    args = parser.parse_args(argv)
    if args.out is None:
        parser.error("--out is needed where $OUT is not set")
    if args.device == "cuda" and not __import__("torch").cuda.is_available():
        parser.error("no CUDA device here: --device cpu --tiny is the dry-run")
    args.work = args.work or Path(tempfile.mkdtemp(prefix="basin-gpu-check-"))
    return args


def main(argv: list[str] | None = None) -> int:
    """Run every case and print the table; 0 when every case ran and passed its checks."""
    args = parse_args(argv)
    results = Check(args).all()
    table = markdown(results)
    (args.out / "gpu_check.md").write_text(table + "\n")
    print(table)
    cases = results["cases"].values()
    return 0 if all(case["status"] == "ok" and case.get("ok", True)
                    and case.get("probe_reproduced", True) for case in cases) else 1


if __name__ == "__main__":
    sys.exit(main())
