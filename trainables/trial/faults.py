"""Which errors are the machine's, not the configuration's.

A trial that raises is ended with its error and told to Optuna as a failed configuration, never
retried: retrying a configuration that cannot train only repeats the error. A fault of the
machine is different: a full disk or quota, a file system that went away, a lost worker or
node. The same configuration trains once it passes, so such an error is raised on to Ray Tune,
which restarts the trial from its latest checkpoint (``resources.max_failures`` times).
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterator

# The operating system refused a read or a write: no space, no quota, an I/O error, a stale or
# disconnected network mount, a file system remounted read-only after errors.
TRANSIENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.ESTALE,
                              errno.ENOTCONN, errno.EROFS})
# Libraries that wrap the OSError in their own (torch.save: "RuntimeError: [enforce fail at
# inline_container.cc] . PytorchStreamWriter failed writing file ...: No space left on device").
TRANSIENT_MESSAGES = ("No space left on device", "Disk quota exceeded")
# Ray's own: the trial's worker process or its node died.
LOST_WORKER_ERRORS = ("ActorDiedError", "NodeDied")


def error_chain(error: BaseException) -> Iterator[BaseException]:
    """``error``, then each error it was raised from (``__cause__``, else ``__context__``),
    once each (a chain may loop)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def is_machine_fault(error: BaseException) -> bool:
    """Whether ``error``, or an error it was raised from, is the machine's fault."""
    return any(
        any(name in type(current).__name__ for name in LOST_WORKER_ERRORS)
        or (isinstance(current, OSError) and current.errno in TRANSIENT_ERRNOS)
        or any(message in str(current) for message in TRANSIENT_MESSAGES)
        for current in error_chain(error))


# CUDA's allocator, out of memory: ``torch.cuda.OutOfMemoryError``, or the RuntimeError that
# older code paths (and NCCL's) raise with the same words.
OUT_OF_MEMORY_NAMES = ("OutOfMemoryError",)
OUT_OF_MEMORY_MESSAGES = ("CUDA out of memory", "CUDA error: out of memory")
# The figures CUDA's message gives: what it tried to allocate, and the device's capacity.
_ASKED = re.compile(r"Tried to allocate ([\d.]+ [KMGTP]?i?B)")
_CAPACITY = re.compile(r"total capacity of ([\d.]+ [KMGTP]?i?B)")


def out_of_memory(error: BaseException) -> BaseException | None:
    """The GPU out-of-memory error in ``error``'s chain, or None: a setting that does not fit
    this device, which a retry repeats (not a machine fault)."""
    for current in error_chain(error):
        if (type(current).__name__ in OUT_OF_MEMORY_NAMES
                or any(message in str(current) for message in OUT_OF_MEMORY_MESSAGES)):
            return current
    return None


def out_of_memory_line(error: BaseException, micro_batch_size: int,
                       gradient_accumulation: int) -> str:
    """What a trial that ran out of GPU memory should change, in one line: the micro-batch
    (the setting that sizes the activations), its value, and the change that keeps the batch
    (and so the recipe) the same, with CUDA's own figures."""
    text = str(error)
    figures = ", ".join(f"{label} {match.group(1)}" for label, match in (
        ("tried to allocate", _ASKED.search(text)), ("of the device's", _CAPACITY.search(text)))
        if match)
    said = f"CUDA out of memory{': ' + figures if figures else ''}"
    if micro_batch_size == 1:
        return (f"training.micro_batch_size: even 1 example per micro-batch does not fit in "
                f"the GPU's memory ({said}); shorten data.max_length, use deepspeed.zero_stage "
                f"3 with deepspeed.offload: true, or a smaller model")
    # The smallest factor that divides it: the batch stays exactly the same.
    factor = next(f for f in range(2, micro_batch_size + 1) if micro_batch_size % f == 0)
    smaller = micro_batch_size // factor
    return (f"training.micro_batch_size: {micro_batch_size} examples per micro-batch do not "
            f"fit in the GPU's memory ({said}); lower it and raise "
            f"training.gradient_accumulation to keep {micro_batch_size * gradient_accumulation} "
            f"examples per optimizer step, e.g. --set "
            f"training.micro_batch_size={smaller} --set "
            f"training.gradient_accumulation={gradient_accumulation * factor}")
