"""Causal-LM data: every example is a chat, read from the built-in task, files or a hub dataset.

A row is either a chat (a list of ``{role, content}`` in ``data.messages_column``; the loss
covers every assistant turn) or a prompt and a response (``data.prompt_column`` or
``data.prompt_template`` built from the row, and ``data.response_column``, mapped through
``data.response_values`` when given). ``data.system_prompt`` opens every chat that has no
system message. Torch-free: ``basin validate`` reads files through the same code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from trainables.data_files import DataFileError, assemble_splits, read_rows
from trainables.settings import DataSettings
from trainables.tasks.causal_lm.instructions import make_instruction_splits

Chat = tuple[tuple[str, str], ...]  # (role, content) turns
ROLES = ("system", "user", "assistant")


@dataclass
class ChatSplits:
    """The chats of each split."""

    train: list[Chat]
    validation: list[Chat]
    test: list[Chat]


def prompt_response_chat(prompt: str, response: str, system: str | None) -> Chat:
    """A one-turn chat, opened by ``system`` when given."""
    turns = ((("system", system),) if system else ()) + (("user", prompt),)
    return turns + (("assistant", response),)


def _messages_chat(number: int, messages: Any, data: DataSettings) -> Chat:
    where = f"line {number}: {data.messages_column!r}"
    if not isinstance(messages, list) or not messages:
        raise DataFileError(f"{where} must be a non-empty list of {{role, content}} messages "
                            f"(got {messages!r:.60})")
    turns = []
    for message in messages:
        if not (isinstance(message, dict) and message.get("role") in ROLES
                and isinstance(message.get("content"), str)):
            raise DataFileError(f"{where}: each message needs a role ({', '.join(ROLES)}) and "
                                f"a text content (got {message!r:.60})")
        turns.append((message["role"], message["content"]))
    if turns[-1][0] != "assistant":
        raise DataFileError(f"{where} must end with an assistant message, the response to "
                            f"learn (ends with {turns[-1][0]!r})")
    if data.system_prompt and turns[0][0] != "system":
        turns.insert(0, ("system", data.system_prompt))
    return tuple(turns)


def chat_of_row(number: int, row: dict[str, Any], data: DataSettings) -> Chat:
    """The chat of the row at line ``number``; a row that cannot make one is an error."""
    if data.messages_column in row:
        return _messages_chat(number, row[data.messages_column], data)
    if data.prompt_template is not None:
        try:
            prompt = data.prompt_template.format_map(row)
        except KeyError as error:
            raise DataFileError(f"line {number} has no {error.args[0]!r}, which "
                                f"data.prompt_template names") from None
    elif row.get(data.prompt_column) is None:
        raise DataFileError(f"line {number} has no {data.prompt_column!r} (nor "
                            f"{data.messages_column!r})")
    else:
        prompt = str(row[data.prompt_column])
    value = row.get(data.response_column)
    if value is None:
        raise DataFileError(f"line {number} has no {data.response_column!r}")
    response = str(value)
    if data.response_values is not None:
        if response not in data.response_values:
            raise DataFileError(f"line {number}: {data.response_column!r} is {response!r}, "
                                f"which data.response_values does not map (it maps "
                                f"{sorted(data.response_values)[:10]})")
        response = data.response_values[response]
    return prompt_response_chat(prompt, response, data.system_prompt)


def read_chats(path: Path, data: DataSettings) -> list[Chat]:
    """Every row of a data file as a chat."""
    _, rows = read_rows(path)
    return [chat_of_row(number, row, data) for number, row in rows]


def _read_hf(data: DataSettings) -> dict[str, list[Chat]]:
    try:
        import datasets  # optional: only users with network and the package use this source
    except ImportError as error:
        raise RuntimeError("data.source 'hf' needs `pip install datasets` and network") from error
    loaded = datasets.load_dataset(data.hf_dataset, data.hf_config)
    return {split: [chat_of_row(number, dict(row), data)
                    for number, row in enumerate(loaded[split], 1)] for split in loaded}


def load_chat_splits(data: DataSettings, seed: int = 0) -> ChatSplits:
    """Train/validation/test chats; without a validation file, a seeded share of training."""
    if data.source == "demo":
        demo = data.demo
        raw = make_instruction_splits(demo.train_size, demo.validation_size, demo.test_size,
                                      demo.label_noise, demo.seed)
        chats = {name: [prompt_response_chat(p, r, data.system_prompt) for p, r in pairs]
                 for name, pairs in raw.items()}
        return ChatSplits(chats["train"], chats["validation"], chats["test"])
    train, validation, test = assemble_splits(data, lambda path: read_chats(path, data),
                                              lambda: _read_hf(data), seed)
    return ChatSplits(train, validation, test)


def has_messages(chats: Iterable[Chat]) -> bool:
    """Whether any chat has more than a prompt and a response (it needs a chat template)."""
    return any(sum(role != "system" for role, _ in chat) > 2 for chat in chats)
