"""A basin driver writes W&B runs through a wandb-core service of its own, never its parent's:
a killed driver must not leave open runs in the service of the process that launched it."""

from __future__ import annotations

import os

from search.trackers.wandb_runs import write_through_own_service


def test_an_inherited_service_is_dropped_and_our_own_is_kept(monkeypatch):
    parent = os.getppid()
    monkeypatch.setenv("WANDB_SERVICE", f"3-{parent}-unix-/tmp/wandb-parent.sock")
    write_through_own_service()
    assert "WANDB_SERVICE" not in os.environ
    own = f"3-{os.getpid()}-tcp-localhost-4242"
    monkeypatch.setenv("WANDB_SERVICE", own)
    write_through_own_service()
    assert os.environ["WANDB_SERVICE"] == own
    monkeypatch.delenv("WANDB_SERVICE")
    write_through_own_service()
    assert "WANDB_SERVICE" not in os.environ
