"""Capability retention: how far a fine-tuned model moved from its base model on inputs that
have nothing to do with the task (the general sample in ``trainables/tasks/general_text.py``).

Both figures are a *drift*, 0 for a model that kept the base model's behaviour there:

- encoders (sequence classification): 1 - the mean cosine similarity between the base and the
  fine-tuned model's sentence embeddings (the mean of the last hidden states over the tokens);
- causal LMs: how much the fine-tuned model's mean token loss on the base model's own greedy
  answers to general prompts exceeds the base model's (in nats per token;
  ``CausalLM.drift``).

The base model is the same peft model with its adapter switched off
(``PeftModel.disable_adapter``), so no second copy of the weights is loaded.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from trainables.evaluation import eval_mode
from trainables.tasks.general_text import PROMPTS, TEXTS


def general_texts(count: int) -> list[str]:
    """The first ``count`` general texts (all of them when fewer ship)."""
    return list(TEXTS[:count])


def general_prompts(count: int) -> list[str]:
    """The first ``count`` general prompts (all of them when fewer ship)."""
    return list(PROMPTS[:count])


def sentence_embeddings(model: Any, tokenizer: Any, texts: list[str], max_length: int,
                        device: torch.device) -> torch.Tensor:
    """The mean of the last hidden states over each text's tokens, in eval mode."""
    encoded = tokenizer(texts, truncation=True, max_length=max_length, padding=True,
                        return_tensors="pt").to(device)
    with eval_mode(model):
        hidden = model(**encoded, output_hidden_states=True).hidden_states[-1].float()
    mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)


def embedding_drift(tuned: torch.Tensor, base: torch.Tensor) -> float:
    """1 - mean cosine similarity of the fine-tuned and the base model's sentence embeddings."""
    return float(1 - F.cosine_similarity(tuned, base, dim=-1).mean())
