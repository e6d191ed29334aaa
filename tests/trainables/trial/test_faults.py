"""Which errors are the machine's (retried by Ray from the latest checkpoint) and which the
configuration's (the trial ends failed, never retried)."""

from __future__ import annotations

import errno

import pytest

from trainables.trial.faults import is_machine_fault


class ActorDiedError(Exception):
    """Named as Ray's own (the check goes by name: the trial side need not import Ray)."""


def _raised_from(cause: BaseException, wrapper: BaseException) -> BaseException:
    try:
        try:
            raise cause
        except BaseException as inner:
            raise wrapper from inner
    except BaseException as outer:
        return outer


@pytest.mark.parametrize("error", [
    OSError(errno.ENOSPC, "No space left on device"),
    OSError(errno.EDQUOT, "Disk quota exceeded"),
    OSError(errno.EIO, "Input/output error"),
    OSError(errno.ESTALE, "Stale file handle"),
    # torch.save's own wording for a full disk, no OSError in sight
    RuntimeError("[enforce fail at inline_container.cc:603] . unexpected pos 64 vs 0: "
                 "PytorchStreamWriter failed writing file data/0: No space left on device"),
    _raised_from(OSError(errno.ENOSPC, "No space left on device"), RuntimeError("save failed")),
    ActorDiedError("The actor died unexpectedly before finishing this task."),
], ids=["enospc", "edquot", "eio", "estale", "torch-save", "wrapped", "lost-worker"])
def test_faults_of_the_machine_are_retried(error: BaseException) -> None:
    assert is_machine_fault(error)


@pytest.mark.parametrize("error", [
    ValueError("lora_r: Input should be a valid integer"),
    RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"),
    FileNotFoundError(errno.ENOENT, "No such file or directory", "train.tsv"),
    PermissionError(errno.EACCES, "Permission denied", "/data"),
    _raised_from(KeyError("label"), RuntimeError("collate failed")),
], ids=["validation", "out-of-memory", "missing-file", "permission", "wrapped-key-error"])
def test_faults_of_the_configuration_or_the_data_are_not(error: BaseException) -> None:
    assert not is_machine_fault(error)


def test_a_cycle_of_causes_ends() -> None:
    first, second = RuntimeError("a"), RuntimeError("b")
    first.__cause__, second.__cause__ = second, first
    assert not is_machine_fault(first)
