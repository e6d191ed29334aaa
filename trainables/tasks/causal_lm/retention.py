"""A causal LM's retention: how far its outputs moved from the base model's on general prompts.

The base model (the same peft model with its adapter switched off) answers the first
``samples`` general prompts greedily, once per worker process (``Task.warm_general``: a warm
worker's trials share it). Its next-token distributions along those answers are kept
coarse-grained (``trainables/tasks/retention.py``). At every evaluation the fine-tuned model
reads the same chats in one forward pass per batch, and two figures come of it:

- ``drift``: the fine-tuned model's mean token loss on the base's answers minus the base
  model's own (nats per token; slightly below 0 where the fine-tune is surer of the base's
  answers than the base itself);
- ``drift_kl``: the mean KL(base || fine-tuned) per answer token, in nats.

Which of the two is ``drift`` (what ``retentive``, the front and the Optuna attribute read) was
decided by measurement: over 6 SmolLM2 runs the answer loss's rank correlation with the drop of
held-out skills was 0.248 in the mean against the KL's 0.242 (the two rank a run's candidates
alike: Spearman 0.98-0.998), and the protocol, written before the runs, kept the higher one
(benchmarks/RESULTS.md, "Did it forget?").

Every worker measures every prompt (no all-reduce): under ZeRO-3 each forward pass is
collective, and all workers then run the same passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import torch
import torch.nn.functional as F

from trainables.contract import DRIFT
from trainables.evaluation import eval_mode
from trainables.tasks.causal_lm.batches import IGNORE, TokenizedChat, tokenize_chat
from trainables.tasks.causal_lm.chats import prompt_response_chat
from trainables.tasks.retention import (
    CoarseDistributions,
    base_model,
    coarse_distributions,
    coarse_kl,
    general_prompts,
)

# How long the base model's greedy answers to general prompts may grow, and the room a general
# chat gets (the sweep's max_length is sized for its own data).
GENERAL_ANSWER_TOKENS = 24
GENERAL_MAX_LENGTH = 256
BATCH_SIZE = 8
DRIFT_KL = "drift_kl"


class AnsweringTask(Protocol):
    """What of the causal-LM task this needs (the task imports this module, not the reverse)."""

    settings: Any
    tokenizer: Any

    def make_loader(self, examples: list[Any], batch_size: int, rank: int, world_size: int,
                    shuffle: bool, seed: int) -> Any: ...

    def greedy_answers(self, model: Any, chats: list[TokenizedChat], device: torch.device,
                       max_new_tokens: int | None = None) -> list[str]: ...


@dataclass(frozen=True)
class BaseAnswers:
    """The general chats with the base model's greedy answers, collated once, and what the base
    model puts at their answer tokens: its coarse distributions and its summed token loss."""

    batches: list[dict[str, torch.Tensor]]
    distributions: list[CoarseDistributions]
    loss_sum: float
    tokens: int


def answer_logits(model: Any, batch: dict[str, torch.Tensor]
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """(the logits that predict each answer token, N x vocabulary; those N tokens)."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    targets = batch["labels"][:, 1:]
    answered = targets != IGNORE
    return logits[:, :-1][answered], targets[answered]


def general_chat(task: AnsweringTask, prompt: str, answer: str) -> TokenizedChat:
    """A general prompt (and an answer) as the task's chats look: its system prompt, its
    template."""
    chat = prompt_response_chat(prompt, answer, task.settings.data.system_prompt)
    return tokenize_chat(chat, task.tokenizer, GENERAL_MAX_LENGTH)


def measure_base(task: AnsweringTask, model: Any, samples: int, device: torch.device
                 ) -> BaseAnswers:
    """The base model's greedy answers to the first ``samples`` general prompts and its coarse
    distributions along them."""
    prompts = general_prompts(samples)
    with base_model(model), eval_mode(model):
        answers = task.greedy_answers(model, [general_chat(task, p, "") for p in prompts],
                                      device, GENERAL_ANSWER_TOKENS)
        chats = [chat for chat in (general_chat(task, p, a) for p, a in zip(prompts, answers))
                 if chat.has_response]
        loader = task.make_loader(chats, BATCH_SIZE, 0, 1, shuffle=False, seed=0)
        batches = [{key: value.to(device) for key, value in batch.items()} for batch in loader]
        distributions, loss_sum, tokens = [], 0.0, 0
        for batch in batches:
            logits, targets = answer_logits(model, batch)
            distributions.append(coarse_distributions(logits))
            loss_sum += float(F.cross_entropy(logits.double(), targets, reduction="sum"))
            tokens += int(targets.numel())
    return BaseAnswers(batches, distributions, loss_sum, tokens)


def retention_figures(model: Any, base: BaseAnswers) -> dict[str, float]:
    """``drift`` (the answer-loss excess) and ``drift_kl`` of ``model`` against the base's
    answers (NaN when the base model answered nothing)."""
    if not base.tokens:
        return {DRIFT: float("nan"), DRIFT_KL: float("nan")}
    kl_sum, loss_sum = 0.0, 0.0
    with eval_mode(model):
        for batch, distributions in zip(base.batches, base.distributions):
            logits, targets = answer_logits(model, batch)
            kl_sum += float(coarse_kl(distributions, logits).sum())
            loss_sum += float(F.cross_entropy(logits.double(), targets, reduction="sum"))
    return {DRIFT: (loss_sum - base.loss_sum) / base.tokens,
            DRIFT_KL: kl_sum / base.tokens}
