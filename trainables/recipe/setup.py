"""Setting a trial up, step by step: this worker's place in its process group, seeds, the
length of the schedule, the data loaders, and the model under its DeepSpeed engine. The recipe
(``loop.py``) calls these in order, then trains.
"""

from __future__ import annotations

import math
import os
import random
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
import torch
import torch.distributed as dist

if not torch.cuda.is_available():
    # Without it DeepSpeed guesses the accelerator on import and says so on the terminal
    # ("Setting accelerator to CPU..."), in every trial and in basin check; with CUDA it finds it.
    os.environ.setdefault("DS_ACCELERATOR", "cpu")
import deepspeed  # noqa: E402  (after the accelerator is named)

from trainables.recipe.ds_config import build_ds_config
from trainables.settings import Hyperparameters, TrialSettings
from trainables.tasks.base import Task


@dataclass(frozen=True)
class WorkerContext:
    """Where this worker sits in its trial's process group."""

    rank: int
    local_rank: int
    world_size: int
    device: torch.device

    @classmethod
    def from_process_group(cls, gpus_asked: float = 0) -> WorkerContext:
        """Read rank and world size from the initialised process group and pick the device;
        a worker asked to train on GPUs (``gpus_asked``) that has none refuses, in one line."""
        rank, world_size = dist.get_rank(), dist.get_world_size()
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if torch.cuda.is_available():
            torch.cuda.set_device(local_rank)
            device = torch.device("cuda", local_rank)
        elif gpus_asked > 0:
            raise RuntimeError(f"resources.gpus_per_worker is {gpus_asked:g} but this worker "
                               f"has no CUDA device (CUDA_VISIBLE_DEVICES="
                               f"{os.environ.get('CUDA_VISIBLE_DEVICES', 'unset')}); not "
                               f"training on the CPU instead")
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


def endless(loader: torch.utils.data.DataLoader, skip: int = 0) -> Iterator[dict]:
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


def skip_shm_comm_op() -> None:
    """Keep DeepSpeed on CPU from JIT-loading its shared-memory all-reduce op.

    Every process that loads it takes torch's file lock in ~/.cache/torch_extensions; a trial
    killed while holding it (a lost node, a killed driver) leaves the lock behind and every
    later trial on the machine waits on it forever. Plain gloo all-reduces do the same work.
    """
    import deepspeed.ops

    deepspeed.ops.__compatible_ops__["deepspeed_shm_comm"] = False


@dataclass
class Loaders:
    """The trial's batches: training (shuffled, this worker's shard), the evaluated splits (the
    fixed training sample, ``train_eval``, and the validation split, ``val``) with their
    loaders, and the test split's loader when the trial is asked to evaluate it."""

    train: torch.utils.data.DataLoader
    evaluated: dict[str, list[Any]]
    eval: dict[str, torch.utils.data.DataLoader]
    test: torch.utils.data.DataLoader | None


def setup_data(task: Task, settings: TrialSettings, ctx: WorkerContext, seed: int) -> Loaders:
    """The same splits on every worker; each worker trains and evaluates on its shard."""
    splits, data = task.data, settings.data
    batch = settings.training.micro_batch_size

    def loader(examples: list, shuffle: bool = False) -> torch.utils.data.DataLoader:
        return task.make_loader(examples, batch if shuffle else batch * 2, ctx.rank,
                                ctx.world_size, shuffle=shuffle, seed=seed if shuffle else 0)

    train_loader = loader(splits.train, shuffle=True)
    evaluated = {"train_eval": task.train_sample(data.train_eval_samples, seed=data.demo.seed),
                 "val": splits.validation}
    eval_loaders = {name: loader(examples) for name, examples in evaluated.items()}
    # The test split is touched only when asked: once at the end (basin confirm), or at every
    # evaluation for a learning-curve table.
    test = loader(splits.test) if settings.evaluate_test != "never" and splits.test else None
    return Loaders(train_loader, evaluated, eval_loaders, test)


def setup_engine(task: Task, hp: Hyperparameters, settings: TrialSettings, ctx: WorkerContext,
                 total_steps: int) -> Any:
    """The pretrained base, frozen, with the trial's LoRA adapters (and a classifier's head),
    under a DeepSpeed engine whose schedule spans ``total_steps``."""
    model = task.build_model(hp)
    ds_config = build_ds_config(settings.training, settings.deepspeed, hp, total_steps,
                                ctx.world_size, on_gpu=ctx.device.type == "cuda")
    if ctx.device.type == "cpu":
        skip_shm_comm_op()
    engine, _, _, _ = deepspeed.initialize(
        model=model,
        model_parameters=[p for p in model.parameters() if p.requires_grad],
        config=ds_config,
        dist_init_required=False,
    )
    return engine
