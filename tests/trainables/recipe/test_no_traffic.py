"""A trial's evaluations and checkpoint saves open no socket (issue 46): peft's default
``save_embedding_layers`` asked the hub about the base model at every adapter save, i.e. at
every evaluation of every trial, whenever the base was named by a hub id (or by "None")."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from search.spec.model import trial_settings, validate_spec
from tests.conftest import tiny_sweep

pytestmark = pytest.mark.integration  # trains (DeepSpeed on CPU)

HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"
_sockets: dict = {"on": False, "events": []}


def _socket_events(event: str, args: tuple) -> None:
    if _sockets["on"] and event.startswith("socket."):
        _sockets["events"].append((event, repr(args)[:200]))


def test_evaluations_and_saves_open_no_socket(tmp_path: Path, tiny_pretrained: Path,
                                               monkeypatch, network_refusals) -> None:
    import trainables.tasks.classification.model as model_module
    from search.lifecycle.foreground import join_process_group
    from trainables.recipe.loop import train
    from trainables.settings import Hyperparameters

    real = model_module.from_pretrained_once

    def named_by_its_hub_id(*args, **kwargs):
        model = real(*args, **kwargs)
        model.name_or_path = HUB_ID  # as a base loaded from the hub (or its cache) is named
        return model

    monkeypatch.setattr(model_module, "from_pretrained_once", named_by_its_hub_id)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)  # peft asks nothing when it is set
    raw = tiny_sweep(tmp_path, model={"name": str(tiny_pretrained),
                                      "lora_target_modules": ["query", "value"]},
                     training={"max_steps": 4, "eval_every": 2, "micro_batch_size": 8,
                               "threads_per_worker": 1})
    settings = trial_settings(validate_spec(raw, "tiny"))
    saved: list[dict] = []

    def report(metrics: dict, folder: str | None) -> None:
        config = (Path(folder) / "adapter_config.json").read_text()
        saved.append({"step": metrics["step"], "base": HUB_ID in config})
        shutil.rmtree(folder, ignore_errors=True)

    join_process_group(on_gpu=False)  # before the count: a trial's process group is made once per process
    sys.addaudithook(_socket_events)  # once per test process; off outside the block below
    _sockets.update(on=True, events=[])
    try:
        train(Hyperparameters(learning_rate=5e-3, lora_r=4), settings, report)
    finally:
        _sockets["on"] = False
    assert network_refusals() == []  # the guard's hook runs first and refuses the call
    assert _sockets["events"] == []  # not even a loopback one
    assert saved == [{"step": 2, "base": True}, {"step": 4, "base": True}]
