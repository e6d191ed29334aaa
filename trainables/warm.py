"""What a trial process keeps for the next trial it runs (a warm worker), and why that cannot
change a figure.

With ``resources.warm_workers`` on (the default for one-worker trials), Ray Tune hands a
finished trial's process to the next trial instead of starting a new one (``reuse_actors``).
What that process keeps is the same for every trial of a sweep, read-only to the trials, and
costly to redo:

- its imports (torch, transformers, peft, DeepSpeed) and its one-process group (rank 0 of 1);
- the task (``trainables.tasks.warm_task``), keyed by the sweep's fixed settings: the tokenizer
  and the tokenized splits (functions of those settings alone), the baseline loss (measured
  once, without drawing from the trial's generators: ``Task.warm_baseline_loss``) and the base
  model's side of the drift (``Task.warm_general``: the base model's outputs on the general
  sample, in eval mode, also without drawing);
- the base model's pretrained weights (``from_pretrained_once``), read from disk once. They are
  shared, not copied, by every trial's model: frozen (LoRA trains adapters and the head only),
  and nothing in the recipe writes to them in place.

Nothing a trial trains is kept: every trial builds its model anew from the kept weights (its own
classification head drawn from its seed, fresh LoRA adapters), a new optimizer and DeepSpeed
engine, and new data loaders with their own seeded generators. The global generators (Python,
NumPy, torch) are seeded by the recipe just before it builds the model, and what a process does
only once (the first load below, the baseline, the base side of the drift) runs with torch's
generators put back as they were (``generators_untouched``). So a process's first trial draws
exactly what its tenth does: the same recipe gives the same figures, bit for bit on a CPU, on a
fresh worker or a warm one, in any order (``tests/integration/test_same_recipe.py`` checks it on
the real default task; ``test_warm_workers.py`` after diverged, stopped and failed trials).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import cache
from typing import Any

import torch

from trainables.evaluation import generators_untouched

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
        # This load initialises the weights the checkpoint lacks (a classifier's head) from
        # torch's generator; only the trial's own load below may draw from it, or a process's
        # first trial would draw its head and adapters after these draws and a warm worker's
        # later trials without them: the same recipe, other figures.
        with generators_untouched():
            loaded, info = model_class.from_pretrained(name, config=config,
                                                       output_loading_info=True, **kwargs)
        missing = set(info["missing_keys"])
        state = {k: v for k, v in loaded.state_dict().items() if k not in missing}
        _weights[key] = (type(loaded), state)
        del loaded
    concrete, state = _weights[key]
    model = concrete.from_pretrained(None, config=config, state_dict=state, **kwargs)
    # Loaded from a state dict, the model would name its base "None": what peft writes into
    # every adapter_config.json as base_model_name_or_path (and once asked the hub about).
    model.name_or_path = model.config._name_or_path = str(name)
    return model


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
    about 400 MiB per SmolLM2 trial with no tensor left alive (``benchmarks/worker_memory.py``;
    RESULTS.md, "A warm worker's memory over ten trials"). ``malloc_trim(0)`` releases every
    free page, also those in the middle of a heap, which glibc otherwise never does."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
