"""The DeepSpeed config of one trial, generated from the sweep settings and its hyperparameters."""

from __future__ import annotations

from typing import Any

import torch

from trainables.settings import DeepSpeedSettings, Hyperparameters, TrainingSettings


def resolve_precision(precision: str, on_gpu: bool) -> str:
    """'auto' means bf16 on a GPU that supports it and fp32 everywhere else."""
    if precision != "auto":
        return precision
    if on_gpu and torch.cuda.is_bf16_supported():
        return "bf16"
    return "fp32"


def build_ds_config(
    training: TrainingSettings,
    deepspeed: DeepSpeedSettings,
    hp: Hyperparameters,
    total_steps: int,
    world_size: int,
    on_gpu: bool,
) -> dict[str, Any]:
    """A complete DeepSpeed config dict: batch sizes, ZeRO, precision, optimizer, schedule."""
    precision = resolve_precision(training.precision, on_gpu)
    zero: dict[str, Any] = {"stage": deepspeed.zero_stage}
    if deepspeed.offload and deepspeed.zero_stage > 0:
        zero["offload_optimizer"] = {"device": "cpu"}
        if deepspeed.zero_stage == 3:
            zero["offload_param"] = {"device": "cpu"}
    if deepspeed.zero_stage == 3:
        # Lets rank 0 write the whole adapter when a checkpoint is saved.
        zero["stage3_gather_16bit_weights_on_model_save"] = True
    return {
        "train_micro_batch_size_per_gpu": training.micro_batch_size,
        "gradient_accumulation_steps": training.gradient_accumulation,
        "train_batch_size": training.micro_batch_size * training.gradient_accumulation * world_size,
        "gradient_clipping": 1.0,
        "zero_optimization": zero,
        "bf16": {"enabled": precision == "bf16"},
        "fp16": {"enabled": precision == "fp16"},
        "optimizer": {
            "type": "AdamW",
            "params": {
                "lr": hp.learning_rate,
                "weight_decay": hp.weight_decay,
                "betas": [0.9, 0.999],
                "eps": 1e-8,
                # torch's AdamW needs no compiled op; offload requires DeepSpeed's CPU Adam.
                "torch_adam": not deepspeed.offload,
                "adam_w_mode": True,
            },
        },
        "scheduler": {
            "type": "WarmupDecayLR",
            "params": {
                "total_num_steps": max(total_steps, 1),
                # DeepSpeed insists on at least one warm-up step.
                "warmup_num_steps": max(1, int(hp.warmup_ratio * total_steps)),
                "warmup_min_lr": 0.0,
                "warmup_max_lr": hp.learning_rate,
                "warmup_type": "linear",
            },
        },
        "steps_per_print": 10**9,
        "wall_clock_breakdown": False,
    }
