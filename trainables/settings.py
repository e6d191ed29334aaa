"""Typed settings of one trial: what the trial side needs to know, nothing about search.

The sweep spec in ``search/`` embeds these models, so a sweep file is validated against exactly
the fields the trial consumes. They travel to Ray workers as plain dicts (``model_dump``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

BUILTIN_MINILM = "builtin:minilm"
BUILTIN_SMOLLM2 = "builtin:smollm2-135m-instruct"
BUILTIN_MODELS = (BUILTIN_MINILM, BUILTIN_SMOLLM2)
# Seeds reach numpy, whose generators take 32-bit seeds.
MAX_SEED = 2**32 - 1


class Strict(BaseModel):
    """Base for every settings block: unknown keys are mistakes, not extensions, and no number
    may be infinite or NaN (``.inf`` in YAML is a typo, never a setting)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ModelSettings(Strict):
    """Which pretrained model to fine-tune and where LoRA goes."""

    name: str = Field(
        BUILTIN_MINILM,
        description="Hugging Face model id, local folder, builtin:minilm (all-MiniLM-L6-v2) "
        "or builtin:smollm2-135m-instruct (SmolLM2-135M-Instruct).",
    )
    task: str = Field(
        "sequence-classification", description="What the model learns: a label per text "
        "(sequence-classification), or the response to a prompt (causal-lm: instruction "
        "fine-tuning), as trainables/tasks/__init__.py lists them; or a task from an installed "
        "package: its name in the basin.tasks entry point group, or package.module:NAME of its "
        "TaskDeclaration.")
    lora_target_modules: list[str] | None = Field(
        None, description="Module names to adapt; None lets peft pick for the architecture."
    )
    # Tests and benchmarks build tiny random models from a config instead of loading weights.
    random_init_config: dict | None = Field(
        None, description="A transformers config dict; when set, the model is built untrained."
    )

    @model_validator(mode="after")
    def _local_path_exists(self) -> ModelSettings:
        if self.name.startswith("builtin:") and self.name not in BUILTIN_MODELS:
            raise ValueError(f"model.name: no built-in model {self.name!r} (choose from "
                             f"{list(BUILTIN_MODELS)})")
        looks_local = self.name.startswith((".", "/", "~"))
        if looks_local and not Path(self.name).expanduser().is_dir():
            raise ValueError(f"model folder does not exist (got {self.name!r})")
        return self


class DemoTaskSettings(Strict):
    """Size and label noise of the built-in demo task: sentiment sentences for classification
    (``trainables/tasks/classification/demo.py``), short instructions for causal LM
    (``trainables/tasks/causal_lm/instructions.py``), where the noise is a wrong response."""

    train_size: int = Field(256, gt=0, le=1_000_000)
    validation_size: int = Field(256, gt=0, le=1_000_000)
    test_size: int = Field(256, ge=0, le=1_000_000)
    label_noise: float = Field(0.2, ge=0.0, lt=0.5)
    seed: int = Field(1234, ge=0, le=MAX_SEED)


class DataSettings(Strict):
    """Where the text comes from and how it is split and tokenized."""

    source: Literal["demo", "files", "hf"] = "demo"
    demo: DemoTaskSettings = DemoTaskSettings()
    train_file: str | None = None
    validation_file: str | None = None
    test_file: str | None = None
    hf_dataset: str | None = Field(None, description="Hugging Face dataset name (needs network).")
    hf_config: str | None = None
    text_column: str = "text"
    label_column: str = "label"
    # Causal LM: a prompt and a response per row, or a chat (a list of {role, content}).
    prompt_column: str = "prompt"
    response_column: str = "response"
    messages_column: str = Field(
        "messages", description="Causal LM: the column of a chat; rows that have it are chats, "
        "and the loss covers every assistant turn.")
    prompt_template: str | None = Field(
        None, description="Causal LM: the prompt built from a row's columns, e.g. "
        "'Review: {sentence}\\nSentiment:' (default: the prompt column).")
    system_prompt: str | None = Field(
        None, description="Causal LM: a system message that opens every chat without one.")
    response_values: dict[str, str] | None = Field(
        None, description="Causal LM: the response for each value of the response column, e.g. "
        "{'0': 'negative', '1': 'positive'}.")
    validation_fraction: float = Field(0.2, gt=0.0, lt=1.0)
    max_train_examples: int | None = Field(None, gt=0)
    max_length: int = Field(64, gt=0, le=8192)
    train_eval_samples: int = Field(
        128, gt=0, le=100_000,
        description="Size of the fixed training sample whose loss defines the gap.")

    @model_validator(mode="after")
    def _source_has_its_fields(self) -> DataSettings:
        if self.source == "files" and not self.train_file:
            raise ValueError("data.source 'files' needs data.train_file")
        if self.source == "hf" and not self.hf_dataset:
            raise ValueError("data.source 'hf' needs data.hf_dataset")
        return self


class GenerationSettings(Strict):
    """Causal LM: the greedy generations scored by exact match at every evaluation."""

    exact_match_samples: int = Field(
        0, ge=0, le=10_000, description="Examples of the training sample and of the validation "
        "split whose greedy answer is compared with the response (0: off).")
    max_new_tokens: int = Field(32, gt=0, le=4096)


class TrainingSettings(Strict):
    """How long and how each trial trains."""

    # The bounds are far beyond any sensible run; past them a value is a typo, not a plan.
    max_steps: int | None = Field(None, gt=0, le=10_000_000)
    epochs: float | None = Field(None, gt=0, le=1000)
    eval_every: int = Field(20, gt=0, description="Evaluate every N optimizer steps.")
    micro_batch_size: int = Field(16, gt=0, le=4096)
    gradient_accumulation: int = Field(1, gt=0, le=4096)
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    seed: int = Field(0, ge=0, le=MAX_SEED)
    threads_per_worker: int | None = Field(
        None, gt=0, le=1024, description="torch threads per worker; default: the worker's CPUs."
    )
    # A recipe handed on by a sweep (best.yaml, an export's config.yaml) trains the chosen
    # configuration to the chosen step: the learning-rate schedule still spans max_steps (or
    # epochs), as it did in the sweep, so the weights at that step are the same.
    stop_at_step: int | None = Field(
        None, gt=0, description="Stop training at this step; the schedule still spans the "
        "whole budget.")

    @model_validator(mode="after")
    def _one_length(self) -> TrainingSettings:
        if self.max_steps is None and self.epochs is None:
            self.max_steps = 100
        if self.max_steps is not None and self.epochs is not None:
            raise ValueError("set training.max_steps or training.epochs, not both")
        if self.stop_at_step and self.max_steps and self.stop_at_step > self.max_steps:
            raise ValueError(f"training.stop_at_step must not exceed training.max_steps "
                             f"(got {self.stop_at_step} > {self.max_steps})")
        return self


class DeepSpeedSettings(Strict):
    """The DeepSpeed engine each trial builds."""

    zero_stage: Literal[0, 1, 2, 3] = 0
    offload: bool = Field(False, description="Offload optimizer state (and params at stage 3).")


class RetentionSettings(Strict):
    """How much of the base model a trial keeps, measured at every evaluation on general inputs
    that have nothing to do with the task (``trainables/tasks/retention.py``): the reported
    ``drift``, 0 when the model did not move from its base there."""

    enabled: bool = Field(True, description="Measure the drift at every evaluation.")
    samples: int = Field(16, ge=4, le=32, description="General prompts (causal LMs) or texts "
                         "(encoders) of the shipped sample it is measured on.")


class Hyperparameters(Strict):
    """The values one trial trains with; the search space draws these."""

    learning_rate: float = Field(5e-4, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    lora_dropout: float = Field(0.05, ge=0, lt=1)
    lora_r: int = Field(8, gt=0, le=1024, description="LoRA rank; beyond 1024 an adapter is "
                        "as large as the layers it adapts.")
    lora_alpha: float = Field(16, gt=0)
    warmup_ratio: float = Field(0.0, ge=0, lt=1)
    hidden_dropout: float | None = Field(None, ge=0, lt=1)
    seed: int | None = Field(None, ge=0, le=MAX_SEED,
                             description="Overrides training.seed (basin confirm).")


HYPERPARAMETER_NAMES: tuple[str, ...] = tuple(Hyperparameters.model_fields)


class TrialSettings(Strict):
    """Everything fixed across the trials of one sweep, as the trial receives it."""

    model: ModelSettings = ModelSettings()
    data: DataSettings = DataSettings()
    training: TrainingSettings = TrainingSettings()
    deepspeed: DeepSpeedSettings = DeepSpeedSettings()
    generation: GenerationSettings = GenerationSettings()
    retention: RetentionSettings = RetentionSettings()
    objective_metric: str = "val_loss"
    objective_mode: Literal["min", "max"] = "min"
    workers: int = 1
    gpus_per_worker: float = 0
    cpus_per_worker: float = 1
    placement_strategy: Literal["PACK", "SPREAD", "STRICT_PACK", "STRICT_SPREAD"] = "PACK"
    evaluate_test: Literal["never", "best_step", "last_step", "every_evaluation"] = Field(
        "never", description="Evaluate the weights of the best (or the last) step on the test "
        "split once, at the end; or at every evaluation (learning-curve tables only: no search "
        "may read it).")

