"""Measure a sweep's recipe speed on this machine: a few real training steps and two
evaluations of one configuration, by ``basin train`` processes (as many at once as the sweep
runs trials at once), into basin's cache.

Two evaluations, because the first window carries the warm-up (allocations, the first
batches): the step time is the second window's, and an evaluation's time is what lies between
the two reports beyond the second window's training.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from search.core.errors import SpecError
from search.sampling.space import ChoiceParam, ConstantParam, FloatParam, IntParam
from search.spec.estimate import Speed, evaluated_examples, save_speed
from search.spec.model import SweepSpec
from trainables.contract import (
    CANDIDATES_FOLDER,
    SAMPLES_PER_SECOND,
    STARTUP_SECONDS,
    STEP,
    TRIAL_METRICS_FILE,
)

STEPS_PER_WINDOW = 3


def representative(param: Any) -> Any:
    """One value of a hyperparameter to time the recipe with: the largest adapter rank (the
    slowest), a range's low end elsewhere (speed does not depend on it)."""
    if isinstance(param, ConstantParam):
        return param.value
    if isinstance(param, ChoiceParam):
        numbers = [v for v in param.values if isinstance(v, (int, float))]
        return max(numbers) if numbers else param.values[0]
    if isinstance(param, (FloatParam, IntParam)):
        return param.low
    return param


def measure_speed(spec: SweepSpec, source: str, cache: Path, sizes: dict[str, int] | None,
                  log: Path | None = None) -> Speed:
    """Train the recipe here for two short windows, each ended by an evaluation, as many copies
    at once as the sweep runs trials at once (``basin train`` processes: trials that share the
    cores run slower than one alone, 1.9x for two MiniLM trials on 2 cores), and keep the speed
    in ``cache``. What the processes print goes to ``log``."""
    window = max(1, min(STEPS_PER_WINDOW, spec.training.max_steps // 2))
    sets = [f"space.{name}={json.dumps(representative(param))}"
            for name, param in spec.space.items()]
    sets += [f"training.stop_at_step={2 * window}", f"training.eval_every={window}"]
    at_once = max(1, min(spec.search.max_concurrent_trials or 1, spec.search.num_trials))
    with tempfile.TemporaryDirectory(prefix="basin-speed-") as work:
        outs = [Path(work) / f"copy-{i}" for i in range(at_once)]
        # Into the log; with none (--verbose), on the terminal, libraries' lines included.
        with open(log, "a") if log else contextlib.nullcontext() as printed:
            copies = [subprocess.Popen(
                [sys.executable, "-m", "search.cli", "train", source, "--out", str(out),
                 *[part for value in sets for part in ("--set", value)],
                 *([] if log else ["--verbose"])],
                stdout=printed, stderr=subprocess.STDOUT if log else None) for out in outs]
            failed = [copy.wait() for copy in copies]
        if any(failed):
            where = log or "the output above"
            raise SpecError([f"{source}: measuring this machine's speed failed (exit "
                             f"{max(failed)}); what it printed is in {where}; --no-measure "
                             "skips the measurement"])
        speeds = [_speed_of(_reports(out), spec, sizes) for out in outs]
    speed = Speed(*(statistics.median(getattr(s, f) for s in speeds)
                    for f in ("seconds_per_step", "seconds_per_evaluation", "examples",
                              "startup_seconds")))
    save_speed(spec, speed, cache)
    return speed


def _reports(out: Path) -> dict[int, dict[str, Any]]:
    """Each evaluation's report, as basin train kept it with its checkpoint."""
    found = [json.loads(path.read_text()) for path in
             out.glob(f"{CANDIDATES_FOLDER}/*/{TRIAL_METRICS_FILE}")]
    return {int(report[STEP]): report for report in found}


def _speed_of(reports: dict[int, dict[str, Any]], spec: SweepSpec,
              sizes: dict[str, int] | None) -> Speed:
    """The step time of the second window (the first carries the warm-up) and an evaluation's
    time: what lies between the two reports beyond that window's training."""
    first, second = reports[min(reports)], reports[max(reports)]
    training = spec.training
    samples = training.micro_batch_size * training.gradient_accumulation * spec.resources.workers
    per_step = samples / second[SAMPLES_PER_SECOND]
    between = second["reported_at"] - first["reported_at"]
    evaluation = max(0.0, between - (second[STEP] - first[STEP]) * per_step)
    return Speed(seconds_per_step=per_step, seconds_per_evaluation=evaluation,
                 examples=evaluated_examples(spec, sizes) or 1,
                 startup_seconds=first[STARTUP_SECONDS])
