"""What ``basin validate`` checks of causal-LM data before anything trains.

Every file is read with the reader training uses (``trainables/tasks/causal_lm/chats.py``): each row
must make a chat (a prompt and a response, or ``messages`` ending with the assistant's answer). Then
the chats meet the model's tokenizer: rows with ``messages`` need a chat template, the template must
render turn by turn, and ``max_length`` must leave some response in at least one example.
"""

from __future__ import annotations

from pathlib import Path

from trainables.data_files import DataFileError, read_rows
from trainables.settings import DataSettings, ModelSettings
from trainables.tasks.causal_lm.chats import load_chat_splits, read_chats
from trainables.tasks.classification.validation import FILE_FIELDS, each_data_file

Problems = list[tuple[str, str]]
# Enough rows to tell whether max_length leaves any response, without tokenizing a whole corpus.
_ROWS_TOKENIZED = 1000


def check_chat_data(data: DataSettings, model: ModelSettings) -> Problems:
    """Problems with causal-LM data, as (field path, message) pairs; empty when all is well."""
    problems = _check_files(data) if data.source == "files" else []
    if problems or data.source == "hf":
        return problems
    try:
        train = load_chat_splits(data, seed=data.demo.seed).train
    except (DataFileError, OSError) as error:
        return [("data.train_file", str(error))]
    if not train:
        return [("data.validation_fraction", f"leaves no training example: hold out validation "
                 f"in data.validation_file, or give more rows (got {data.validation_fraction})")]
    return _check_with_tokenizer(train, data, model, chats_given=_has_messages_column(data))


def _check_files(data: DataSettings) -> Problems:
    found, problems = each_data_file(data, lambda field, path, shown: _file_problems(
        path, shown, data, field))
    return problems + [problem for trouble in found.values() for problem in trouble]


def _file_problems(path: Path, shown: str, data: DataSettings, field: str) -> Problems:
    columns, _ = read_rows(path)
    if not columns:
        return [(f"data.{field}", f"{shown} is empty")]
    if data.messages_column not in columns:
        needed = [("response_column", data.response_column)]
        if data.prompt_template is None:
            needed.insert(0, ("prompt_column", data.prompt_column))
        missing = [(f"data.{name}", f"no column {column!r} in {shown} (has {columns}; or give "
                    f"chats in a {data.messages_column!r} column)")
                   for name, column in needed if column not in columns]
        if missing:
            return missing
    if not read_chats(path, data):
        return [(f"data.{field}", f"{shown} has no rows, only a header")]
    return []


def _has_messages_column(data: DataSettings) -> bool:
    if data.source != "files":
        return False
    for field in FILE_FIELDS:
        value = getattr(data, field)
        if value and data.messages_column in read_rows(Path(value).expanduser())[0]:
            return True
    return False


def _check_with_tokenizer(train: list, data: DataSettings, model: ModelSettings,
                          chats_given: bool) -> Problems:
    # The task itself, not through the registry (trainables.tasks), which names this module.
    from trainables.settings import TrialSettings
    from trainables.tasks.causal_lm.batches import ChatTemplateError, tokenize_all
    from trainables.tasks.causal_lm.task import CausalLM

    tokenizer = CausalLM(TrialSettings(model=model, data=data)).tokenizer
    shown = "model.random_init_config's tokenizer" if model.random_init_config else model.name
    if chats_given and not getattr(tokenizer, "chat_template", None):
        return [("data.messages_column", f"rows give chats in {data.messages_column!r}, but "
                 f"the tokenizer of {shown} has no chat template to render them; give a "
                 f"prompt and a response instead")]
    sample = train[:_ROWS_TOKENIZED]
    try:
        kept, cut = tokenize_all(sample, tokenizer, data.max_length)
    except ChatTemplateError as error:
        return [("data.messages_column" if chats_given else "model.name", f"{error} ({shown})")]
    if sample and not kept:
        where = "the training data" if len(sample) == len(train) else \
            f"the first {len(sample)} training examples"
        return [("data.max_length", f"cuts every response away in {where} (prompts are "
                 f"longer than {data.max_length} tokens); raise it (got {data.max_length})")]
    return []


def check_decoder(config: dict) -> str | None:
    """Why a model's config is not one causal-LM instruction tuning can train, or None."""
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES as CAUSAL_LMS,
    )
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_MASKED_LM_MAPPING_NAMES as MASKED_LMS,
    )

    model_type = config.get("model_type")
    # Encoders such as BERT have a causal-LM head in transformers, for use as a decoder only;
    # a model trained as an encoder (is_decoder unset) cannot generate text.
    encoder = model_type in MASKED_LMS and not config.get("is_decoder")
    if model_type not in CAUSAL_LMS or encoder:
        return (f"a {model_type!r} model is not a causal language model (it cannot generate "
                "text), so task 'causal-lm' cannot train it; use task "
                "'sequence-classification' or a decoder model")
    return None
