"""Wrap a base model with the trial's LoRA adapters (every task's model goes through here)."""

from __future__ import annotations

from typing import Any

from peft import LoraConfig, PeftModel, TaskType, get_peft_model

from trainables.settings import Hyperparameters, ModelSettings


def apply_lora(model: Any, settings: ModelSettings, hp: Hyperparameters,
               task_type: str = TaskType.SEQ_CLS) -> PeftModel:
    """Freeze the base model and add LoRA adapters for peft's ``task_type`` (a classifier's
    head stays trainable)."""
    config = LoraConfig(
        task_type=task_type,
        r=hp.lora_r,
        lora_alpha=hp.lora_alpha,
        lora_dropout=hp.lora_dropout,
        target_modules=settings.lora_target_modules,
    )
    return get_peft_model(model, config)
