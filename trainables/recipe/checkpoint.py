"""What a trial saves at every evaluation: the LoRA adapter (with a classifier's head), the
metrics of that step, the task's probe (a few figures on fixed inputs: a classifier's logits, a
causal LM's losses and answers, so that an exported bundle can prove it computes what the
trial's model did at that step), and the DeepSpeed state a resumed trial continues from, with
each rank's random generators. The exportable part of each (everything but the DeepSpeed
state) is a candidate for what the sweep hands on and is kept for every evaluation
(``trainables/trial/entry.py`` publishes it); Ray keeps only the latest two whole checkpoints,
for resume.

File names live in ``trainables/contract.py``: the driver side reads them without importing
torch or DeepSpeed.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from trainables.contract import PROBE_FILE, STATE_DIR, TRAINER_STATE_FILE, TRIAL_METRICS_FILE

if TYPE_CHECKING:
    from deepspeed import DeepSpeedEngine

STATE_TAG = "state"
# Each rank's random generators at the step, beside its DeepSpeed state: a resumed trial draws
# the dropout masks it would have drawn had it never stopped.
RANDOM_STATE_FILE = "random_state_rank{rank}.pt"


def save_checkpoint(engine: DeepSpeedEngine, metrics: dict, probe: dict,
                    trainer_state: dict, rank: int, zero_stage: int) -> str:
    """Write this step's checkpoint into a new folder on every rank and return it.

    Rank 0 writes the adapter (with the head), metrics and probe, the files an export needs
    (the tokenizer is the base model's, written by the export); every rank writes its part of
    the DeepSpeed state (trainable weights, optimizer, schedule; the frozen base is left out)
    that a resumed trial starts from.
    """
    # Under ZeRO-3 the weights are partitioned: every rank takes part in gathering them.
    state_dict = engine._zero3_consolidated_16bit_state_dict() if zero_stage == 3 else None
    _leave_out_every_frozen_weight(engine)
    folder = tempfile.mkdtemp(prefix="basin-ckpt-")
    engine.save_checkpoint(os.path.join(folder, STATE_DIR), tag=STATE_TAG,
                           exclude_frozen_parameters=True)
    torch.save(_random_state(), os.path.join(folder, STATE_DIR,
                                             RANDOM_STATE_FILE.format(rank=rank)))
    if rank == 0:
        engine.module.save_pretrained(folder, state_dict=state_dict,
                                      save_embedding_layers=_saves_embeddings(engine.module))
        for name, content in ((TRIAL_METRICS_FILE, metrics), (PROBE_FILE, probe),
                              (TRAINER_STATE_FILE, trainer_state)):
            with open(os.path.join(folder, name), "w") as handle:
                json.dump(content, handle, indent=2)
    return folder


def _saves_embeddings(model: Any) -> bool:
    """peft's ``save_embedding_layers``, decided here from the model in memory.

    peft's default (``"auto"``) saves the embedding layers when the adapter targets them, and
    otherwise asks the hub whether the base model named in the adapter's config has a
    ``config.json`` (and then compares its vocabulary with the model's): a lookup on every
    save, i.e. at every evaluation of every trial, which on a machine without internet waits
    for a DNS failure (and asked about a repository named "None" for a base loaded from a
    state dict). basin never resizes a vocabulary, so peft's first rule is the whole answer:
    the embedding layers are saved when ``lora_target_modules`` (a list in basin's settings)
    names one.
    """
    from peft.utils.constants import EMBEDDING_LAYER_NAMES

    targets = model.peft_config[model.active_adapter].target_modules or ()
    return any(name in targets for name in EMBEDDING_LAYER_NAMES)


def _leave_out_every_frozen_weight(engine: DeepSpeedEngine) -> None:
    """Make DeepSpeed's ``exclude_frozen_parameters`` leave out tied frozen weights too.

    DeepSpeed drops frozen weights by the names ``named_parameters()`` gives, which lists a
    tied weight once: a causal LM whose output layer shares the embedding keeps
    ``lm_head.weight`` in every resume checkpoint (124 MB for SmolLM2-135M, 28M parameters).
    Frozen tensors are recognised here by their storage instead.
    """
    module = engine.module

    def trainable_state_dict(destination=None, prefix="", keep_vars=False,
                             exclude_frozen_parameters=False):
        state = module.state_dict(destination=destination, prefix=prefix, keep_vars=keep_vars)
        if exclude_frozen_parameters:
            frozen = {p.data_ptr() for p in module.parameters() if not p.requires_grad}
            state = type(state)((name, value) for name, value in state.items()
                                if value.data_ptr() not in frozen)
        return state

    engine.module_state_dict = trainable_state_dict


def load_checkpoint(engine: DeepSpeedEngine, folder: str) -> dict:
    """Restore the DeepSpeed state saved by ``save_checkpoint``; returns the trainer state
    (step reached, best objective so far and its step)."""
    engine.load_checkpoint(os.path.join(folder, STATE_DIR), tag=STATE_TAG,
                           load_module_strict=False)
    with open(os.path.join(folder, TRAINER_STATE_FILE)) as handle:
        return json.load(handle)


def _random_state() -> dict[str, Any]:
    return {"torch": torch.get_rng_state(), "python": random.getstate(),
            "numpy": np.random.get_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}


def restore_random_state(folder: str, rank: int) -> None:
    """Put this rank's random generators back as they were when ``folder`` was saved.
    Compatibility (checkpoints of basin 0.1 hold none: their trials resume with freshly seeded
    generators). Remove in basin 0.3."""
    path = os.path.join(folder, STATE_DIR, RANDOM_STATE_FILE.format(rank=rank))
    if not os.path.isfile(path):
        return
    state = torch.load(path, weights_only=False)  # this trial's own file
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    if state["cuda"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def snapshot_trainable(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A copy of the trainable weights (adapter and head), gathered whole under ZeRO-3."""
    import deepspeed

    params = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    with deepspeed.zero.GatheredParameters([p for _, p in params]):
        return {name: p.detach().clone() for name, p in params}


def restore_trainable(model: torch.nn.Module, snapshot: dict[str, torch.Tensor]) -> None:
    """Put a snapshot's weights back (partitioned again under ZeRO-3)."""
    import deepspeed

    params = [(name, p) for name, p in model.named_parameters() if name in snapshot]
    with deepspeed.zero.GatheredParameters([p for _, p in params], modifier_rank=0):
        with torch.no_grad():
            for name, p in params:
                p.copy_(snapshot[name])
