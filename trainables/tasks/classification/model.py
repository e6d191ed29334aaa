"""The classifier's pretrained model (with a fresh classification head) and its tokenizer."""

from __future__ import annotations

from typing import Any

from transformers import (
    AutoConfig,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedTokenizerFast,
)

from trainables.models.source import builtin_minilm_path, resolve_model_name
from trainables.settings import Hyperparameters, ModelSettings
from trainables.warm import from_pretrained_once


def load_tokenizer(settings: ModelSettings) -> Any:
    """The tokenizer of the pretrained model (tiny random models borrow MiniLM's vocabulary).

    Decoder models (Llama, Qwen...) often have no padding token; batches need one, and the
    end-of-sequence token serves.
    """
    if settings.random_init_config is not None:
        return PreTrainedTokenizerFast.from_pretrained(builtin_minilm_path())
    tokenizer = AutoTokenizer.from_pretrained(resolve_model_name(settings.name))
    if tokenizer.pad_token is None and tokenizer.eos_token is not None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_base_model(settings: ModelSettings, num_labels: int, hp: Hyperparameters,
                    pad_token_id: int | None = None) -> Any:
    """The base model with a fresh classification head for ``num_labels`` classes.

    ``pad_token_id`` tells a decoder model's classification head which tokens are padding.
    """
    overrides: dict[str, Any] = {"num_labels": num_labels}
    if pad_token_id is not None:
        overrides["pad_token_id"] = pad_token_id
    if hp.hidden_dropout is not None:
        overrides["hidden_dropout_prob"] = hp.hidden_dropout
    if settings.random_init_config is not None:
        config_dict = {**settings.random_init_config, **overrides}
        config = AutoConfig.for_model(**config_dict)
        return AutoModelForSequenceClassification.from_config(config)
    name = resolve_model_name(settings.name)
    config = AutoConfig.from_pretrained(name, **overrides)
    return from_pretrained_once(AutoModelForSequenceClassification, name, config)
