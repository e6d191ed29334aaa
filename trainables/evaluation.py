"""What a trial measures at every evaluation.

The names it reports them under live in ``trainables/contract.py`` (no torch), so that
``search/`` can refer to them without importing torch.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Any, Iterator

import torch
import torch.distributed as dist


def all_reduce_sum(values: list[float], device: torch.device) -> list[float]:
    """Sum a few floats over all workers (a no-op in a one-process group)."""
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.tolist()


@contextmanager
def eval_mode(model: Any) -> Iterator[None]:
    """Eval mode (no dropout) and no gradients inside; the model's training mode after."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        if was_training:
            model.train()


@contextmanager
def generators_untouched(device: torch.device | None = None) -> Iterator[None]:
    """Torch's generators as they were after the block, whatever it drew: the CPU's and
    ``device``'s (default: the current CUDA device, if any). A measurement (the baseline, the
    drift) or a load kept for later trials must not move a trial's random stream."""
    if device is None and torch.cuda.is_available():
        device = torch.device("cuda", torch.cuda.current_device())
    # Only the trial's own device: forking every device would start a CUDA context on each.
    devices = [device] if device is not None and device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        yield


def is_better(value: float, best: float | None, mode: str) -> bool:
    """Whether ``value`` improves on ``best`` for an objective that is minimised or maximised."""
    if best is None:
        return math.isfinite(value)
    return value < best if mode == "min" else value > best


def own_generator(seed: int) -> torch.Generator:
    """A loader's own random generator: a DataLoader draws a seed from it for every pass over
    its data, so starting an epoch or an evaluation never moves the trial's random stream (the
    dropout masks), and a resumed trial's stream can be put back exactly."""
    return torch.Generator().manual_seed(seed)
