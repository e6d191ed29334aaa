"""What a trial process keeps for the next trial it runs (a warm worker).

With ``resources.warm_workers`` on (the default for one-worker trials), Ray Tune hands a
finished trial's process to the next trial instead of starting a new one (``reuse_actors``).
That process keeps what is the same for every trial of a sweep and costly to redo:

- its imports (torch, transformers, peft, DeepSpeed), simply by living on;
- the task with its tokenizer and tokenized splits (``trainables.tasks.kept_task``), keyed by
  the sweep's fixed settings, which every trial of a sweep shares;
- the base model's pretrained weights (``from_pretrained_once``), read from disk once.

Nothing a trial trains is kept: every trial builds its model anew from the kept weights (the
trial's config, its own classification head drawn from its seed, fresh LoRA adapters), a new
optimizer and DeepSpeed engine, and new data loaders; the recipe seeds every generator before
it builds them. The first trial of a process takes exactly the same path, so a trial computes
the same numbers whether its process is fresh or warm (``tests/integration/test_warm_workers``
checks them bit for bit).

The base weights are shared, not copied, by every trial's model: they are frozen (LoRA trains
adapters and the head only), and nothing in the recipe writes to them in place.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import cache
from typing import Any

import torch

# What this process kept, and how many trials it has run (0 until its first trial starts).
_weights: dict[tuple, tuple[type, dict[str, torch.Tensor]]] = {}
_trials_started = 0


def trial_starts() -> bool:
    """Count a trial starting in this process; True if an earlier trial ran here (warm)."""
    global _trials_started
    _trials_started += 1
    return _trials_started > 1


def from_pretrained_once(model_class: Any, name: str, config: Any, **kwargs: Any) -> Any:
    """``model_class.from_pretrained(name, config=config, **kwargs)``, with the checkpoint's
    weights read from disk once per process.

    The weights the checkpoint holds are kept; those it lacks (a classifier's new head) are
    left out of what is kept, so transformers initialises them afresh for each trial from the
    seeded generator, as it does for a fresh process. ``config`` may differ between trials in
    what does not change a weight's shape (dropout); only the latest model's weights are kept.
    """
    key = (getattr(model_class, "__name__", str(model_class)), name,
           getattr(config, "num_labels", None), repr(sorted(kwargs.items())))
    if key not in _weights:
        _weights.clear()  # one base model at a time: the memory goes to the trial
        loaded, info = model_class.from_pretrained(name, config=config, output_loading_info=True,
                                                   **kwargs)
        missing = set(info["missing_keys"])
        state = {k: v for k, v in loaded.state_dict().items() if k not in missing}
        _weights[key] = (type(loaded), state)
        del loaded
    concrete, state = _weights[key]
    return concrete.from_pretrained(None, config=config, state_dict=state, **kwargs)


def release_trial_memory() -> None:
    """Give back what the ended trial held (its model, engine and optimizer are unreferenced by
    now), so the next trial on this worker starts with the same free memory as a fresh one."""
    gc.collect()
    return_freed_heap()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


@cache
def _malloc_trim() -> Any:
    """glibc's ``malloc_trim``, or None where the C library has none (macOS, musl)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def return_freed_heap() -> None:
    """Hand the heap pages the ended trial freed back to the operating system.

    glibc keeps freed memory in its heaps, and a trial's frees leave it in pieces that the next
    trial's allocations did not reuse: a warm worker grew by 64 MiB per MiniLM trial and by
    about 400 MiB per SmolLM2 trial (``benchmarks/worker_memory.py``, RESULTS.md section 10),
    with no tensor left alive. ``malloc_trim(0)`` releases every free page, also those in the
    middle of a heap, which glibc otherwise never does."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
