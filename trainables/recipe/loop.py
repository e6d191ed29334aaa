"""One trial's fine-tuning recipe, top to bottom: data -> model + LoRA -> DeepSpeed -> train/eval.

It runs identically in every worker of a trial. The caller owns the process group and hands in
a ``report`` function; the loop never knows whether it runs inside a Tune function or a Ray
Train worker, nor which task it trains: the task (``trainables/tasks``) brings the model, the
data, the evaluation and the probe.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from dataclasses import dataclass
from typing import Callable, Iterator

import deepspeed
import numpy as np
import torch
import torch.distributed as dist

from trainables.contract import (
    BASELINE_LOSS,
    BEST_OBJECTIVE,
    BEST_STEP,
    EPOCH,
    GAP,
    IS_FINAL,
    SAMPLES_PER_SECOND,
    STARTUP_SECONDS,
    STEP,
    TOKENS_PER_SECOND,
    TOTAL_STEPS,
    TRAIN_LOSS,
    TRAIN_LOSS_CURVE,
    TRIAL_METRICS_FILE,
    VAL_LOSS_SE,
    WORLD_SIZE,
)
from trainables.evaluation import is_better
from trainables.recipe.checkpoint import (
    load_checkpoint,
    restore_trainable,
    save_checkpoint,
    snapshot_trainable,
)
from trainables.recipe.ds_config import build_ds_config
from trainables.settings import Hyperparameters, TrialSettings
from trainables.tasks import kept_task
from trainables.warm import trial_starts

# report(metrics, checkpoint_dir): every worker calls it at every evaluation with the same
# metrics and its own checkpoint folder (rank 0's holds the adapter).
Report = Callable[[dict, "str | None"], None]


@dataclass(frozen=True)
class WorkerContext:
    """Where this worker sits in its trial's process group."""

    rank: int
    local_rank: int
    world_size: int
    device: torch.device

    @classmethod
    def from_process_group(cls) -> WorkerContext:
        """Read rank and world size from the initialised process group and pick the device."""
        rank, world_size = dist.get_rank(), dist.get_world_size()
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if torch.cuda.is_available():
            torch.cuda.set_device(local_rank)
            device = torch.device("cuda", local_rank)
        else:
            device = torch.device("cpu")
        return cls(rank, local_rank, world_size, device)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch so a trial with the same seed trains the same way."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def total_optimizer_steps(settings: TrialSettings, train_size: int, world_size: int) -> int:
    """max_steps, or the optimizer steps that ``epochs`` passes over the training split take:
    the length of the learning-rate schedule."""
    training = settings.training
    if training.max_steps is not None:
        return training.max_steps
    per_step = training.micro_batch_size * training.gradient_accumulation * world_size
    return max(1, math.ceil(training.epochs * train_size / per_step))


def last_training_step(settings: TrialSettings, total_steps: int) -> int:
    """Where training stops: the end of the schedule, or earlier for a recipe that names its
    step (``training.stop_at_step``); the schedule is not shortened."""
    stop_at = settings.training.stop_at_step
    return min(total_steps, stop_at) if stop_at else total_steps


def _endless(loader: torch.utils.data.DataLoader, skip: int = 0) -> Iterator[dict]:
    """Batches forever, reshuffling at each pass (the sampler needs the epoch number).

    ``skip`` batches are passed over first, so a resumed trial sees the batches it would have
    seen had it never stopped.
    """
    epoch, skip = divmod(skip, len(loader))
    while True:
        loader.sampler.set_epoch(epoch)
        batches = iter(loader)
        for _ in range(skip):
            next(batches)
        skip = 0
        yield from batches
        epoch += 1


def _skip_shm_comm_op() -> None:
    """Keep DeepSpeed on CPU from JIT-loading its shared-memory all-reduce op.

    Every process that loads it takes torch's file lock in ~/.cache/torch_extensions; a trial
    killed while holding it (a lost node, a killed driver) leaves the lock behind and every
    later trial on the machine waits on it forever. Plain gloo all-reduces do the same work.
    """
    import deepspeed.ops

    deepspeed.ops.__compatible_ops__["deepspeed_shm_comm"] = False


class Diverged(FloatingPointError):
    """The training loss became NaN or infinite: the configuration diverged."""

    MESSAGE = "non-finite training loss"

    def __init__(self, loss: float, step: int):
        super().__init__(f"{self.MESSAGE} {loss} at step {step}")
        self.step = step


def _named(split: str, figures: dict) -> dict:
    """An evaluation's figures under their reported names: ``val_loss``, ``val_accuracy``...
    (the standard error is reported for the validation split only)."""
    return {f"{split}_{name}": value for name, value in figures.items() if name != "loss_se"}


def train(hp: Hyperparameters, settings: TrialSettings, report: Report,
          resume_from: str | None = None, started_at: float | None = None) -> dict:
    """Fine-tune with LoRA under DeepSpeed, evaluating and reporting every ``eval_every`` steps.

    ``resume_from`` is a checkpoint folder of this trial: training continues after its step.
    ``started_at`` (``time.time()``) is when the trial's process began its work; the reports
    say how long it took from there to the first optimizer step (imports, model load, DeepSpeed
    init). Returns the last reported metrics. Raises ``Diverged`` on a non-finite loss.
    """
    started_at = time.time() if started_at is None else started_at
    ctx = WorkerContext.from_process_group()
    training, data = settings.training, settings.data
    torch.set_num_threads(training.threads_per_worker or max(1, int(settings.cpus_per_worker)))
    seed = hp.seed if hp.seed is not None else training.seed
    warm_start = trial_starts()

    # Data: the same splits on every worker; each worker trains and evaluates on its shard.
    # A warm worker kept them from its earlier trials (trainables/warm.py).
    task = kept_task(settings)
    splits = task.data
    batch = training.micro_batch_size

    def loader(examples: list, shuffle: bool = False) -> torch.utils.data.DataLoader:
        return task.make_loader(examples, batch if shuffle else batch * 2, ctx.rank,
                                ctx.world_size, shuffle=shuffle, seed=seed if shuffle else 0)

    train_loader = loader(splits.train, shuffle=True)
    evaluated = {"train_eval": task.train_sample(data.train_eval_samples, seed=data.demo.seed),
                 "val": splits.validation}
    eval_loaders = {name: loader(examples) for name, examples in evaluated.items()}
    # The test split is touched once, at the very end, and only when asked (basin confirm).
    test_loader = (loader(splits.test)
                   if settings.evaluate_test != "never" and splits.test else None)
    best_weights: dict | None = None

    def measure(name: str) -> dict:
        return task.evaluate(engine, evaluated[name], eval_loaders[name], ctx.device)

    # Model: pretrained base, frozen, with the trial's LoRA adapters (and a classifier's head).
    # Seeded here, after the data (read only by a fresh process): a head, adapters, dropout
    # and batch order drawn the same way in a fresh process and a warm one.
    seed_everything(seed)
    model = task.build_model(hp)
    total_steps = total_optimizer_steps(settings, len(splits.train), ctx.world_size)
    last_step = last_training_step(settings, total_steps)
    ds_config = build_ds_config(training, settings.deepspeed, hp, total_steps, ctx.world_size,
                                on_gpu=ctx.device.type == "cuda")
    if ctx.device.type == "cpu":
        _skip_shm_comm_op()
    engine, _, _, _ = deepspeed.initialize(
        model=model,
        model_parameters=[p for p in model.parameters() if p.requires_grad],
        config=ds_config,
        dist_init_required=False,
    )
    try:
        # What a model that learned nothing scores: the "not learning" yardstick (for a causal LM,
        # the base model itself, measured here before the first step).
        baseline_loss = task.kept_baseline_loss(engine, eval_loaders["val"], ctx.device)

        # Train, evaluating every eval_every optimizer steps and at the last step.
        objective, mode = settings.objective_metric, settings.objective_mode
        best_value: float | None = None
        best_step = done_steps = 0
        if resume_from is not None:
            state = load_checkpoint(engine, resume_from)
            best_value, best_step = state["best_value"], state[BEST_STEP]
            done_steps = state[STEP]
            if done_steps >= last_step:  # it had finished; only Tune had not heard the last word
                with open(os.path.join(resume_from, TRIAL_METRICS_FILE)) as handle:
                    metrics = json.load(handle)
                report(metrics, None)
                return metrics
        batches = _endless(train_loader, skip=done_steps * training.gradient_accumulation)
        running_losses: list[float] = []
        loss_curve: list[list[float]] = []  # [step, mean micro-batch loss] since the last eval
        samples = tokens = 0
        startup_seconds = time.time() - started_at
        clock = time.perf_counter()
        metrics: dict = {}
        engine.train()
        for step in range(done_steps + 1, last_step + 1):
            step_losses = []
            for _ in range(training.gradient_accumulation):
                inputs = {key: value.to(ctx.device) for key, value in next(batches).items()}
                loss = engine(**inputs).loss
                if not torch.isfinite(loss):
                    raise Diverged(loss.item(), step)
                engine.backward(loss)
                engine.step()  # DeepSpeed only steps the optimizer at the accumulation boundary
                step_losses.append(loss.item())
                samples += inputs["input_ids"].shape[0] * ctx.world_size
                tokens += int(inputs["attention_mask"].sum()) * ctx.world_size
            running_losses += step_losses
            loss_curve.append([step, sum(step_losses) / len(step_losses)])

            if step % training.eval_every != 0 and step != last_step:
                continue
            train_seconds = time.perf_counter() - clock
            train_eval, val = measure("train_eval"), measure("val")
            measured_test = {}
            if test_loader is not None and settings.evaluate_test == "every_evaluation":
                # Learning-curve tables (benchmarks/curve_tables.py): the test split at every
                # evaluation, for scoring what a replayed search hands on; no search reads it.
                test_clock = time.perf_counter()
                measured_test = {**_named("test", task.evaluate_test(engine, test_loader,
                                                                     ctx.device)),
                                 "test_seconds": time.perf_counter() - test_clock}
            metrics = {
                STEP: step,
                TOTAL_STEPS: last_step,
                EPOCH: step * batch * training.gradient_accumulation * ctx.world_size
                / len(splits.train),
                TRAIN_LOSS: sum(running_losses) / len(running_losses),
                **_named("train_eval", train_eval),
                **_named("val", val),
                VAL_LOSS_SE: val["loss_se"],
                **splits.facts,
                BASELINE_LOSS: baseline_loss,
                GAP: val["loss"] - train_eval["loss"],
                "learning_rate": engine.get_lr()[0],
                SAMPLES_PER_SECOND: samples / train_seconds,
                TOKENS_PER_SECOND: tokens / train_seconds,
                IS_FINAL: step == last_step,
                WORLD_SIZE: ctx.world_size,
                STARTUP_SECONDS: startup_seconds,
                "warm_start": warm_start,
                "worker_pid": os.getpid(),  # trials of one warm worker share it
                # Wall-clock stamps (not Ray's whole-second `timestamp`) for slot-occupancy figures.
                "trial_started_at": started_at,
                "reported_at": time.time(),
                TRAIN_LOSS_CURVE: loss_curve,
                **measured_test,
            }
            improved = is_better(metrics[objective], best_value, mode)
            if improved:
                best_value, best_step = metrics[objective], step
            metrics[BEST_OBJECTIVE] = best_value if best_value is not None else math.nan
            metrics[BEST_STEP] = best_step
            # Every rank runs the probe and the save: under ZeRO-3 both are collective.
            probe = task.probe(engine, ctx.device)
            trainer_state = {STEP: step, "best_value": best_value, BEST_STEP: best_step}
            checkpoint = save_checkpoint(engine, metrics, probe, trainer_state, ctx.rank,
                                         settings.deepspeed.zero_stage)
            if improved and test_loader is not None and settings.evaluate_test == BEST_STEP:
                best_weights = snapshot_trainable(engine.module)
            if (test_loader is not None and step == last_step
                    and settings.evaluate_test != "every_evaluation"):
                # The weights a recipe hands on: the best step's, or those at the step it names.
                if best_weights is not None:
                    restore_trainable(engine.module, best_weights)
                metrics.update(_named("test", task.evaluate_test(engine, test_loader,
                                                                 ctx.device)))
            report(metrics, checkpoint)
            running_losses, loss_curve, samples, tokens = [], [], 0, 0
            clock = time.perf_counter()
        return metrics
    finally:
        # Its optimizer's hooks and buffers go with it: a warm worker's next trial starts clean.
        engine.destroy()
