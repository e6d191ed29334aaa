"""Measure a sweep's recipe speed on this machine: a few real training steps and two
evaluations of one configuration, in this process (``basin train``'s path), into basin's cache.

Two evaluations, because the first window carries the warm-up (allocations, the first
batches): the step time is the second window's, and an evaluation's time is what lies between
the two reports beyond the second window's training.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from search.core.driver_log import DriverLog
from search.sampling.space import ChoiceParam, ConstantParam, FloatParam, IntParam
from search.spec.estimate import Speed, evaluated_examples, save_speed
from search.spec.model import SweepSpec
from trainables.contract import SAMPLES_PER_SECOND, STARTUP_SECONDS, STEP

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
                  log: DriverLog | None = None) -> Speed:
    """Train the recipe here for two short windows, each ended by an evaluation, and keep the
    speed in ``cache``; what the libraries say goes to ``log``."""
    from search.lifecycle.foreground import train_here

    window = STEPS_PER_WINDOW
    steps = min(2 * window, spec.training.max_steps)
    window = max(1, steps // 2)
    values = {name: representative(param) for name, param in spec.space.items()}
    timed = spec.model_copy(deep=True)
    timed.space = {name: ConstantParam(type="constant", value=value)
                   for name, value in values.items()}
    timed.training = timed.training.model_copy(update={"stop_at_step": 2 * window,
                                                       "eval_every": window})
    reports: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="basin-speed-") as out:
        train_here(timed, source, Path(out), say=lambda line: None, log=log, reports=reports)
    first, second = reports[min(reports)], reports[max(reports)]
    training = spec.training
    samples = training.micro_batch_size * training.gradient_accumulation * spec.resources.workers
    per_step = samples / second[SAMPLES_PER_SECOND]
    between = second["reported_at"] - first["reported_at"]
    evaluation = max(0.0, between - (second[STEP] - first[STEP]) * per_step)
    speed = Speed(seconds_per_step=per_step, seconds_per_evaluation=evaluation,
                  examples=evaluated_examples(spec, sizes) or 1,
                  startup_seconds=first[STARTUP_SECONDS])
    save_speed(spec, speed, cache)
    return speed
