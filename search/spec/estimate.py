"""How long a sweep will take on this machine, from a measured speed.

``basin init`` measures the recipe's speed here (``search/cli/speed.py``: a few real
training steps and two evaluations) and keeps it in basin's cache, under a key of what sets the
speed (model, sequence length, batch, workers and threads, precision, ZeRO stage, drift
measurement). ``basin init``, ``basin validate`` and the first lines of ``basin run`` then say
``10 trials of up to 128 steps: about 4 min on this machine (at most 6 min if no trial stops
early)``: each trial as long as ASHA and the stopping rules let the average trial train, as
many at a time as the sweep runs, and the bound with every trial trained to its budget.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

from search.spec.model import SweepSpec

SPEEDS_FILE = "speeds.json"

# The share of ASHA's expected steps (or of the budget, without ASHA) that trials still train
# when stopping rules are on beside it: the medians over the replay's six cells (demo, SST-2
# and SmolLM2, 20 and 40 trials; benchmarks/RESULTS.md, "basin as shipped" against
# "basin-no-rules" and "basin-no-asha"): the rules end 9-20% of ASHA's steps, 12-31% without.
RULES_SHARE_UNDER_ASHA = 0.87
RULES_SHARE_ALONE = 0.80


@dataclass(frozen=True)
class Speed:
    """A recipe's measured speed on this machine: seconds per optimizer step, seconds per
    evaluation (both splits' losses, the checkpoint, drift when on) over ``examples`` examples,
    and a trial's start-up (model, data, engine)."""

    seconds_per_step: float
    seconds_per_evaluation: float
    examples: int
    startup_seconds: float

    def evaluation_seconds(self, examples: int) -> float:
        """An evaluation over ``examples`` examples (the time scales with them)."""
        return self.seconds_per_evaluation * examples / max(1, self.examples)


def speed_key(spec: SweepSpec) -> str:
    """What sets a trial's speed, as a short key (the data's size is scaled for, not keyed)."""
    training, resources, model = spec.training, spec.resources, spec.model
    facts = {"model": model.name, "task": model.task, "random_init": model.random_init_config,
             "targets": model.lora_target_modules, "max_length": spec.data.max_length,
             "micro_batch": training.micro_batch_size,
             "accumulation": training.gradient_accumulation,
             "threads": training.threads_per_worker, "workers": resources.workers,
             "cpus": resources.cpus_per_worker, "gpus": resources.gpus_per_worker,
             "precision": training.precision, "zero": spec.deepspeed.zero_stage,
             "drift": spec.retention.enabled}
    return hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def evaluated_examples(spec: SweepSpec, sizes: dict[str, int] | None) -> int | None:
    """Examples an evaluation measures: the validation split and the training sample."""
    if sizes is None:
        return None
    return sizes["validation"] + min(spec.data.train_eval_samples, sizes["train"])


def trial_budget(spec: SweepSpec) -> int:
    """A trial's steps when nothing ends it early (``stop_at_step`` where set)."""
    return spec.training.stop_at_step or spec.training.max_steps


def expected_share(spec: SweepSpec) -> float:
    """The share of its budget the average trial is expected to train (``expected_steps``)."""
    return expected_steps(spec) / trial_budget(spec)


def expected_steps(spec: SweepSpec) -> float:
    """The steps an average trial trains: when ASHA cuts as designed, every trial to the first
    rung, 1/factor of them on to the next, and so on to the budget; the whole budget under
    FIFO or the freezing scheduler (its frozen trials may be thawed). The stopping rules, when
    any is on, end trials earlier still, by the share the replay measured."""
    budget = trial_budget(spec)
    scheduler = spec.scheduler
    rules = bool(spec.stopping.rules())
    if scheduler.type != "asha":
        return budget * (RULES_SHARE_ALONE if rules else 1.0)
    expected, reached, going_on = 0.0, 0, 1.0
    rung = float(scheduler.grace_period)
    while rung < budget:
        expected += going_on * (int(rung) - reached)
        reached, going_on = int(rung), going_on / scheduler.reduction_factor
        rung *= scheduler.reduction_factor
    expected += going_on * (budget - reached)
    return expected * (RULES_SHARE_UNDER_ASHA if rules else 1.0)


def trial_seconds(spec: SweepSpec, speed: Speed, examples: int,
                  steps: float | None = None) -> float:
    """One trial ``steps`` long (default: trained to its budget): its start-up, its steps and
    its evaluations."""
    steps = steps if steps is not None else trial_budget(spec)
    return (speed.startup_seconds + steps * speed.seconds_per_step
            + steps / spec.training.eval_every * speed.evaluation_seconds(examples))


def sweep_seconds(spec: SweepSpec, speed: Speed, examples: int,
                  steps: float | None = None) -> float:
    """The sweep's trials, ``max_concurrent_trials`` at a time, each ``steps`` long (default:
    trained to its budget)."""
    at_once = max(1, min(spec.search.max_concurrent_trials or 1, spec.search.num_trials))
    return trial_seconds(spec, speed, examples, steps) * math.ceil(spec.search.num_trials
                                                                    / at_once)


def trials_that_fit(most: int, least: int, per_trial: float, at_once: int,
                    budget: float) -> int:
    """As many trials as fit ``budget`` seconds, ``at_once`` at a time, each ``per_trial``
    seconds: never more than ``most``, never fewer than ``least`` (nor than ``most``)."""
    fitting = int(budget // per_trial) * at_once
    return min(most, max(least, fitting))


def evaluation_every_that_fits(speed: Speed, examples: int, evaluations: int, rounds: int,
                               budget: float) -> int:
    """Steps between evaluations so that ``rounds`` trials one after another fit ``budget``
    seconds, each its start-up and then ``evaluations`` windows of those steps and an
    evaluation (at least 1)."""
    window = (budget / rounds - speed.startup_seconds) / evaluations
    return max(1, int((window - speed.evaluation_seconds(examples)) / speed.seconds_per_step))


def minutes(seconds: float) -> str:
    """``about 55 min``, ``about 40 s``, ``about 2.5 h``."""
    if seconds < 90:
        return f"about {seconds:.0f} s"
    if seconds < 90 * 60:
        return f"about {seconds / 60:.0f} min"
    return f"about {seconds / 3600:.1f} h"


def describe(spec: SweepSpec, speed: Speed, examples: int) -> str:
    """``10 trials of up to 128 steps: about 4 min on this machine (at most 6 min), ...``."""
    steps = trial_budget(spec)
    trials = spec.search.num_trials
    expected = sweep_seconds(spec, speed, examples, expected_steps(spec))
    most = sweep_seconds(spec, speed, examples)
    bound = f" ({minutes(most).replace('about', 'at most')} if no trial stops early)" \
        if minutes(most) != minutes(expected) else ""
    return (f"{trials} trial{'s' if trials != 1 else ''} of up to {steps} steps: "
            f"{minutes(expected)} on this machine{bound}, "
            f"{spec.search.max_concurrent_trials or 1} at a time (measured: "
            f"{speed.seconds_per_step:.2f} s a step, "
            f"{speed.evaluation_seconds(examples):.1f} s an evaluation)")


def load_speed(spec: SweepSpec, cache: Path) -> Speed | None:
    """The speed measured here for this recipe, or None."""
    try:
        found = json.loads((cache / SPEEDS_FILE).read_text()).get(speed_key(spec))
        return Speed(**found) if found else None
    except (OSError, ValueError, TypeError):
        return None


def save_speed(spec: SweepSpec, speed: Speed, cache: Path) -> None:
    """Keep the speed for this recipe (the file is small; a damaged one is started again)."""
    path = cache / SPEEDS_FILE
    try:
        speeds = json.loads(path.read_text())
    except (OSError, ValueError):
        speeds = {}
    speeds[speed_key(spec)] = asdict(speed)
    cache.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(speeds, indent=1))
    partial.replace(path)
