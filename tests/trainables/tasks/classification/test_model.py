"""Loading models: decoder models without a padding token still batch."""

from __future__ import annotations

import torch
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

from trainables.models.source import builtin_minilm_path
from trainables.settings import Hyperparameters, ModelSettings
from trainables.tasks.classification.model import load_base_model, load_tokenizer


def test_a_decoder_model_without_a_pad_token_classifies_padded_batches(tmp_path):
    # A tiny GPT-2 saved as a pretrained folder, with a tokenizer that has no padding token.
    config = AutoConfig.for_model("gpt2", vocab_size=30522, n_embd=32, n_layer=2, n_head=2,
                                  n_positions=64)
    AutoModelForCausalLM.from_config(config).save_pretrained(tmp_path)
    tokenizer = AutoTokenizer.from_pretrained(builtin_minilm_path())
    tokenizer.eos_token = "[SEP]"
    tokenizer.pad_token = None
    tokenizer.save_pretrained(tmp_path)

    settings = ModelSettings(name=str(tmp_path))
    loaded = load_tokenizer(settings)
    assert loaded.pad_token == "[SEP]"
    model = load_base_model(settings, 2, Hyperparameters(), pad_token_id=loaded.pad_token_id)
    batch = loaded(["a fine film", "dull"], padding=True, return_tensors="pt")
    with torch.no_grad():
        assert model(**batch).logits.shape == (2, 2)  # raises without a pad token id
