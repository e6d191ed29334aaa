"""Causal-LM chats as token ids with the loss on response tokens only, and batches of them.

A chat is rendered with the tokenizer's chat template when it has one, turn by turn, so that
the text of every assistant turn is known exactly: everything else (system, user, the template's
own markup before a response) and the padding get label -100, which the loss ignores. Without a
template, a prompt and its response are joined as given, with the end-of-sequence token after
the response. Sequences longer than ``max_length`` are cut at the end; each cut is counted, and
an example whose response was cut away entirely is left out (it would carry no loss).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from trainables.evaluation import own_generator
from trainables.tasks.causal_lm.chats import Chat

IGNORE = -100


class ChatTemplateError(ValueError):
    """A chat the tokenizer's template cannot render turn by turn, or needs a template."""


@dataclass(frozen=True)
class TokenizedChat:
    """One chat's ids and labels (-100 outside responses), and whether max_length cut it."""

    input_ids: list[int]
    labels: list[int]
    truncated: bool
    prompt_length: int  # ids before the last response: what generation starts from
    response: str  # the last response, for exact match

    @property
    def has_response(self) -> bool:
        return any(label != IGNORE for label in self.labels)


def _render(tokenizer: Any, turns: Chat, generation_prompt: bool) -> str:
    messages = [{"role": role, "content": content} for role, content in turns]
    return tokenizer.apply_chat_template(messages, tokenize=False,
                                         add_generation_prompt=generation_prompt)


def segments(chat: Chat, tokenizer: Any) -> list[tuple[str, bool]]:
    """The chat as (text, is_response) pieces that add up to the whole rendered chat."""
    if not getattr(tokenizer, "chat_template", None):
        roles = tuple(role for role, _ in chat)
        if roles not in (("user", "assistant"), ("system", "user", "assistant")):
            raise ChatTemplateError("a chat of several turns needs a tokenizer with a chat "
                                    "template; without one, give a prompt and a response")
        prompt = "\n".join(content for _, content in chat[:-1])
        return [(prompt, False), (chat[-1][1], True)]
    pieces: list[tuple[str, bool]] = []
    done = ""
    for index, (role, _) in enumerate(chat):
        if role != "assistant":
            continue
        before = _render(tokenizer, chat[:index], generation_prompt=True)
        through = _render(tokenizer, chat[:index + 1], generation_prompt=False)
        if not (before.startswith(done) and through.startswith(before)):
            raise ChatTemplateError("the tokenizer's chat template does not render a chat "
                                    "turn by turn, so responses cannot be told from prompts")
        pieces += [(before[len(done):], False), (through[len(before):], True)]
        done = through
    return pieces


def tokenize_chat(chat: Chat, tokenizer: Any, max_length: int) -> TokenizedChat:
    """Ids and labels of a chat, cut to ``max_length``."""
    templated = bool(getattr(tokenizer, "chat_template", None))
    ids: list[int] = []
    labels: list[int] = []
    prompt_length = 0
    for number, (text, is_response) in enumerate(segments(chat, tokenizer)):
        # Templates write their special tokens as text; a bare prompt gets the tokenizer's own
        # (a BOS for Llama-like tokenizers), and a bare response ends with EOS.
        piece = tokenizer(text, add_special_tokens=not templated and number == 0)["input_ids"]
        if is_response and not templated and tokenizer.eos_token_id is not None:
            piece = piece + [tokenizer.eos_token_id]
        if is_response:
            prompt_length = len(ids)
        ids += piece
        labels += piece if is_response else [IGNORE] * len(piece)
    truncated = len(ids) > max_length
    return TokenizedChat(ids[:max_length], labels[:max_length], truncated,
                         min(prompt_length, max_length), chat[-1][1])


def tokenize_all(chats: list[Chat], tokenizer: Any, max_length: int
                 ) -> tuple[list[TokenizedChat], int]:
    """(the chats that keep some response, how many max_length cut)."""
    tokenized = [tokenize_chat(chat, tokenizer, max_length) for chat in chats]
    return [t for t in tokenized if t.has_response], sum(t.truncated for t in tokenized)


class _Chats(Dataset):
    def __init__(self, chats: list[TokenizedChat]):
        self.chats = chats

    def __len__(self) -> int:
        return len(self.chats)

    def __getitem__(self, index: int) -> TokenizedChat:
        return self.chats[index]


def make_collate(pad_id: int):
    """Right-pad a list of tokenized chats into ids, attention mask and labels."""

    def collate(batch: list[TokenizedChat]) -> dict[str, torch.Tensor]:
        width = max(len(chat.input_ids) for chat in batch)
        ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, chat in enumerate(batch):
            n = len(chat.input_ids)
            ids[row, :n] = torch.tensor(chat.input_ids)
            labels[row, :n] = torch.tensor(chat.labels)
            mask[row, :n] = 1
        return {"input_ids": ids, "attention_mask": mask, "labels": labels}

    return collate


def make_chat_loader(chats: list[TokenizedChat], pad_id: int, batch_size: int, rank: int,
                     world_size: int, shuffle: bool, seed: int) -> DataLoader:
    """A loader over this worker's shard (strided for evaluation, so every example counts
    once over the workers; a seeded distributed sampler for training)."""
    collate = make_collate(pad_id)
    if not shuffle:
        return DataLoader(_Chats(chats[rank::world_size]), batch_size=batch_size,
                          shuffle=False, collate_fn=collate, generator=own_generator(seed))
    sampler = DistributedSampler(_Chats(chats), num_replicas=world_size, rank=rank,
                                 shuffle=True, seed=seed)
    return DataLoader(_Chats(chats), batch_size=batch_size, sampler=sampler, collate_fn=collate,
                      generator=own_generator(seed))
