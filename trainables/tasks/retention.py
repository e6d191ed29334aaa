"""Capability retention: how far a fine-tuned model moved from its base model on inputs that
have nothing to do with the task (the general sample in ``trainables/tasks/general_text.py``).

Each figure is a *drift*, 0 for a model that kept the base model's behaviour there:

- encoders (sequence classification): 1 - the mean cosine similarity between the base and the
  fine-tuned model's sentence embeddings (the mean of the last hidden states over the tokens);
- causal LMs (``trainables/tasks/causal_lm/retention.py``): how much the fine-tuned model's
  mean token loss on the base model's own greedy answers to general prompts exceeds the base
  model's (``drift``, nats per token), and the KL divergence of its next-token distributions
  from the base model's along those answers (``drift_kl``); the two rank candidates alike, and
  the answer loss tracked the loss of held-out skills a little better (RESULTS.md, "Did it
  forget?").

Divergence of the outputs, not distance in weight space, is what tracks forgetting (RL's Razor,
arXiv 2509.04259; Biderman et al. 2024, "LoRA Learns Less and Forgets Less").

The base model is the same peft model with its adapter switched off
(``PeftModel.disable_adapter``), so no second copy of the weights is loaded.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

import torch
import torch.nn.functional as F

from trainables.contract import DRIFT
from trainables.evaluation import eval_mode
from trainables.tasks.general_text import PROMPTS, TEXTS

if TYPE_CHECKING:
    from trainables.tasks.base import Task


@contextmanager
def base_model(model: Any) -> Iterator[None]:
    """The peft model with its adapter switched off (a DeepSpeed engine wraps it): the base
    model, without a second copy of its weights."""
    with getattr(model, "module", model).disable_adapter():
        yield


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


def encoder_drift(task: Task, model: Any, samples: int, device: torch.device
                  ) -> dict[str, float]:
    """An encoder task's ``retention``: ``drift``, 1 - the cosine similarity of ``samples``
    general texts' sentence embeddings with the base model's (which ``task`` measures once per
    process and keeps)."""
    texts = general_texts(samples)
    max_length = task.settings.data.max_length

    def embeddings() -> torch.Tensor:
        return sentence_embeddings(model, task.tokenizer, texts, max_length, device)

    def base_embeddings() -> torch.Tensor:
        with base_model(model):
            return embeddings()

    base = task.warm_general((len(texts), str(device)), base_embeddings)
    return {DRIFT: embedding_drift(embeddings(), base)}


# The base model's next-token distributions are kept coarse-grained: at each position its top
# TOP_TOKENS tokens and one bin for the rest of the vocabulary. The full distributions of a
# sweep's general sample would take (answer tokens x vocabulary) floats per worker, hundreds of
# MB for a 128k vocabulary; the KL between coarse-grainings is a lower bound of the full KL
# (data processing) that keeps the tokens the base model would say.
TOP_TOKENS = 64


@dataclass(frozen=True)
class CoarseDistributions:
    """Next-token distributions at N positions, coarse-grained to ``top_ids`` (N x k, the base
    model's top tokens) and one bin for every other token: ``top_logp`` (N x k) and
    ``rest_logp`` (N) are the log-probabilities of those k + 1 bins."""

    top_ids: torch.Tensor
    top_logp: torch.Tensor
    rest_logp: torch.Tensor


def _binned(logp: torch.Tensor, top_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(log-probabilities of ``top_ids``, of every other token together) of each row."""
    top = logp.gather(-1, top_ids)
    rest = logp.scatter(-1, top_ids, float("-inf")).logsumexp(-1)
    return top, rest


def coarse_distributions(logits: torch.Tensor, top: int = TOP_TOKENS) -> CoarseDistributions:
    """The base model's side: its ``top`` most likely tokens at each row of ``logits``
    (N x vocabulary) and the bins' log-probabilities, in float64."""
    logp = torch.log_softmax(logits.double(), dim=-1)
    top_ids = logp.topk(min(top, logp.shape[-1]), dim=-1).indices
    top_logp, rest_logp = _binned(logp, top_ids)
    return CoarseDistributions(top_ids, top_logp, rest_logp)


def coarse_kl(base: CoarseDistributions, logits: torch.Tensor) -> torch.Tensor:
    """KL(base || tuned) at each row, both coarse-grained to the base's bins; ``logits`` are the
    fine-tuned model's (N x vocabulary). 0 where the two distributions are the same."""
    logq = torch.log_softmax(logits.double(), dim=-1)
    top_q, rest_q = _binned(logq, base.top_ids)
    top = (base.top_logp.exp() * (base.top_logp - top_q)).sum(-1)
    # A bin the base gives no mass adds nothing (0 log 0 = 0), whatever the tuned model gives.
    rest = torch.where(base.rest_logp > float("-inf"),
                       base.rest_logp.exp() * (base.rest_logp - rest_q),
                       torch.zeros_like(rest_q))
    return top + rest
