"""Causal LM: instruction fine-tuning, the loss on response tokens only.

Evaluation is measured the same way on the fixed training sample and on the validation split,
so the gap means what it means for classification: the mean token loss over response tokens
(``loss``; perplexity is its exp) and, with ``generation.exact_match_samples``, the share of
greedy answers equal to the response. A model that learned nothing is the base model itself:
its validation loss before the first step (LoRA starts as the identity) is the baseline.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from trainables.evaluation import all_reduce_sum, eval_mode
from trainables.models.builtin_llm import prepare_model, tokenizer_for_random_models
from trainables.models.source import resolve_model_name
from trainables.settings import Hyperparameters
from trainables.tasks.base import Task, TaskData
from trainables.tasks.causal_lm.batches import (
    IGNORE,
    TokenizedChat,
    make_chat_loader,
    make_collate,
    tokenize_all,
)
from trainables.tasks.causal_lm.chats import load_chat_splits
from trainables.tasks.causal_lm.retention import measure_base, retention_figures
from trainables.warm import from_pretrained_once

PROBE_SIZE = 4
# Config keys under which architectures name the dropout of their hidden states.
_HIDDEN_DROPOUT_KEYS = ("hidden_dropout", "hidden_dropout_prob", "resid_pdrop", "dropout")


class CausalLM(Task):
    name = "causal-lm"
    peft_task_type = "CAUSAL_LM"

    def load_tokenizer(self) -> Any:
        from transformers import AutoTokenizer

        model = self.settings.model
        if model.random_init_config is not None:
            source = tokenizer_for_random_models()
        else:
            prepare_model(model.name)
            source = resolve_model_name(model.name)
        tokenizer = AutoTokenizer.from_pretrained(source)
        if tokenizer.pad_token is None and tokenizer.eos_token is not None:
            tokenizer.pad_token = tokenizer.eos_token
        return tokenizer

    def load_data(self) -> TaskData:
        data = self.settings.data
        chats = load_chat_splits(data, seed=data.demo.seed)
        splits, facts = {}, {}
        for name, short in (("train", "train"), ("validation", "val"), ("test", "test")):
            kept, cut = tokenize_all(getattr(chats, name), self.tokenizer, data.max_length)
            splits[name] = kept
            if short != "test":
                facts[f"{short}_truncated"] = cut
        return TaskData(splits["train"], splits["validation"], splits["test"], facts=facts)

    def load_base_model(self, hp: Hyperparameters) -> Any:
        from transformers import AutoConfig, AutoModelForCausalLM

        model = self.settings.model
        if model.random_init_config is not None:
            config = AutoConfig.for_model(**model.random_init_config)
        else:
            config = AutoConfig.from_pretrained(resolve_model_name(model.name))
        if hp.hidden_dropout is not None:
            keys = [key for key in _HIDDEN_DROPOUT_KEYS if hasattr(config, key)]
            if not keys:
                raise ValueError(f"hidden_dropout: a {config.model_type} model has no hidden "
                                 f"dropout to set; leave it out of the space")
            setattr(config, keys[0], hp.hidden_dropout)
        if config.vocab_size < len(self.tokenizer):
            where = ("model.random_init_config" if model.random_init_config is not None
                     else f"model.name {model.name!r}")
            raise ValueError(f"{where}: vocab_size {config.vocab_size} is smaller than the "
                             f"tokenizer's {len(self.tokenizer)}")
        if model.random_init_config is not None:
            return AutoModelForCausalLM.from_config(config)
        return from_pretrained_once(AutoModelForCausalLM, resolve_model_name(model.name), config,
                                    dtype=torch.float32)

    def make_loader(self, examples, batch_size, rank, world_size, shuffle, seed):
        return make_chat_loader(examples, self.tokenizer.pad_token_id, batch_size, rank,
                                world_size, shuffle=shuffle, seed=seed)

    def evaluate(self, model, examples, loader, device) -> dict:
        figures = _token_loss(model, loader, device)
        samples = self.settings.generation.exact_match_samples
        if samples:
            figures["exact_match"] = self._exact_match(model, examples[:samples], device)
        return figures

    def evaluate_test(self, model, loader, device) -> dict:
        """The test split's loss, and exact match over every test example whenever exact match
        is measured at all (the validation's few examples steer a sweep; the test's score it)."""
        figures = _token_loss(model, loader, device)
        if self.settings.generation.exact_match_samples:
            figures["exact_match"] = self._exact_match(model, self.data.test, device)
        return figures

    def baseline_loss(self, model, validation, device) -> float:
        return _token_loss(model, validation, device)["loss"]

    def loss(self, model, loader, device) -> float:
        return _token_loss(model, loader, device)["loss"]

    def retention(self, model, samples, device) -> dict[str, float]:
        """``drift`` (the loss's excess over the base's) and ``drift_kl`` (KL from the base's
        next-token distributions) on the base model's greedy answers to general prompts, which
        are measured once per process and kept (``trainables/tasks/causal_lm/retention.py``)."""
        base = self.warm_general((samples, str(device)),
                                 lambda: measure_base(self, model, samples, device))
        return retention_figures(model, base)

    def probe(self, model, device) -> dict:
        chats = self.data.validation[:PROBE_SIZE]
        return {"input_ids": [chat.input_ids for chat in chats],
                "labels": [chat.labels for chat in chats],
                "prompts": [self.tokenizer.decode(chat.input_ids[:chat.prompt_length])
                            for chat in chats],
                "answers": self.greedy_answers(model, chats, device),
                "losses": _example_losses(model, chats, self.tokenizer.pad_token_id, device)}

    def probe_difference(self, model, probe: dict) -> float:
        chats = [TokenizedChat(ids, labels, False, 0, "")
                 for ids, labels in zip(probe["input_ids"], probe["labels"])]
        losses = _example_losses(model, chats, self.tokenizer.pad_token_id, torch.device("cpu"))
        return max(abs(a - b) for a, b in zip(losses, probe["losses"]))

    def load_exported(self, base_model: str, bundle: str, probe: dict) -> Any:
        from peft import PeftModel
        from transformers import AutoModelForCausalLM

        base = AutoModelForCausalLM.from_pretrained(base_model, dtype=torch.float32)
        return PeftModel.from_pretrained(base, bundle).eval()

    def greedy_answers(self, model: Any, chats: list[TokenizedChat], device: torch.device,
                 max_new_tokens: int | None = None) -> list[str]:
        """Greedy answers to the chats' prompts (left-padded, one batch), of at most
        ``max_new_tokens`` tokens (default: the sweep's ``generation.max_new_tokens``)."""
        if not chats:
            return []
        pad = self.tokenizer.pad_token_id
        prompts = [chat.input_ids[:chat.prompt_length] for chat in chats]
        width = max(len(p) for p in prompts)
        ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts], device=device)
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts],
                            device=device)
        generator = getattr(model, "module", model)  # a DeepSpeed engine wraps the peft model
        with eval_mode(model):
            out = generator.generate(input_ids=ids, attention_mask=mask, do_sample=False,
                                     max_new_tokens=max_new_tokens or
                                     self.settings.generation.max_new_tokens,
                                     pad_token_id=pad)
        return [text.strip() for text in
                self.tokenizer.batch_decode(out[:, width:], skip_special_tokens=True)]

    def _exact_match(self, model: Any, chats: list[TokenizedChat], device: torch.device
                     ) -> float:
        import torch.distributed as dist

        rank, world = ((dist.get_rank(), dist.get_world_size()) if dist.is_initialized()
                       else (0, 1))
        shard = chats[rank::world]
        hits = sum(answer == chat.response.strip()
                   for answer, chat in zip(self.greedy_answers(model, shard, device), shard))
        hits, count = all_reduce_sum([float(hits), float(len(shard))], device)
        return hits / count if count else math.nan


def summed_token_losses(model: Any, batch: dict[str, torch.Tensor]
                        ) -> tuple[torch.Tensor, torch.Tensor]:
    """(summed token loss, response tokens) of each example of a batch."""
    labels = batch["labels"]
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    shifted = labels[:, 1:]
    losses = F.cross_entropy(logits[:, :-1].float().transpose(1, 2), shifted,
                             ignore_index=IGNORE, reduction="none").double()
    counted = (shifted != IGNORE).double()
    return (losses * counted).sum(dim=1), counted.sum(dim=1)


def _token_loss(model: Any, loader: Any, device: torch.device) -> dict:
    """Mean token loss, its standard error and perplexity over every worker's shard, in eval
    mode: n, sum s, sum t, sum s^2, sum t^2, sum s*t over examples (s: an example's summed
    loss, t: its response tokens), all-reduced."""
    totals = [0.0] * 6
    with eval_mode(model):
        for batch in loader:
            batch = {key: value.to(device) for key, value in batch.items()}
            s, t = summed_token_losses(model, batch)
            for index, value in enumerate((torch.ones_like(s), s, t, s * s, t * t, s * t)):
                totals[index] += value.sum().item()
    return _loss_figures(*all_reduce_sum(totals, device))


def _loss_figures(n: float, s: float, t: float, ss: float, tt: float, st: float) -> dict:
    """Mean token loss R = sum s / sum t, and its standard error as a ratio estimator over
    examples: sqrt(var(s - R t) / n) / mean t."""
    if not t:
        return {"loss": math.nan, "loss_se": math.nan, "perplexity": math.nan}
    ratio = s / t
    spread = max(0.0, ss - 2 * ratio * st + ratio * ratio * tt) / max(1.0, n - 1)
    return {"loss": ratio, "loss_se": math.sqrt(spread / n) / (t / n),
            "perplexity": math.exp(min(ratio, 700.0))}


def _example_losses(model: Any, chats: list[TokenizedChat], pad_id: int,
                    device: torch.device) -> list[float]:
    """Each chat's mean token loss, one chat at a time (no padding in play), in eval mode."""
    collate = make_collate(pad_id)
    losses = []
    with eval_mode(model):
        for chat in chats:
            batch = {key: value.to(device) for key, value in collate([chat]).items()}
            s, t = summed_token_losses(model, batch)
            losses.append(float(s.sum() / t.sum()))
    return losses
