"""A warm worker gives the heap pages an ended trial freed back to the operating system.

Without it glibc kept them: the worker grew by 64 MiB per MiniLM trial and about 400 MiB per
SmolLM2 trial (benchmarks/RESULTS.md, section 10). The test frees memory in pieces, as a trial
does, with a live allocation above it so that glibc's own trimming of the heap's top cannot
return it, and checks that ``release_trial_memory`` does."""

from __future__ import annotations

import psutil
import pytest

from trainables.warm import _malloc_trim, release_trial_memory

PIECE = 16 * 1024  # below glibc's mmap threshold: heap memory, not a mapping of its own
PIECES = 8192      # 128 MiB in all


@pytest.mark.skipif(_malloc_trim() is None, reason="the C library has no malloc_trim (not glibc)")
def test_the_pages_a_trial_freed_go_back_to_the_system():
    process = psutil.Process()
    pieces = [bytearray(PIECE) for _ in range(PIECES)]  # bytearray(n) writes n zero bytes
    kept = pieces[::64]  # what outlives the trial, spread over the heap (2 MiB)
    del pieces
    held = process.memory_info().rss
    release_trial_memory()
    returned = held - process.memory_info().rss
    assert returned > 64 * 2**20, f"only {returned / 2**20:.0f} MiB of 126 MiB freed went back"
    assert len(kept) == PIECES // 64
