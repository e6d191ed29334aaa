"""The causal-LM task's data side: chats, response-only labels, truncation, figures, the
built-in instruction task. The tokenizer is the built-in SmolLM2's (converted once per machine)."""

from __future__ import annotations

import copy
import math

import pytest

from trainables.data_files import DataFileError
from trainables.models.builtin_llm import tokenizer_for_random_models
from trainables.settings import DataSettings
from trainables.tasks.causal_lm.batches import (
    IGNORE,
    ChatTemplateError,
    make_collate,
    tokenize_all,
    tokenize_chat,
)
from trainables.tasks.causal_lm.chats import chat_of_row, load_chat_splits, prompt_response_chat
from trainables.tasks.causal_lm.instructions import make_instruction_splits
from trainables.tasks.causal_lm.task import _loss_figures


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tokenizer_for_random_models())


@pytest.fixture(scope="module")
def bare_tokenizer(tokenizer):
    """The same tokenizer without a chat template: prompts and responses joined as given."""
    bare = copy.deepcopy(tokenizer)
    bare.chat_template = None
    return bare


def ids(tokenizer, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def test_the_loss_covers_the_response_and_the_templates_end_of_turn_only(tokenizer):
    chat = prompt_response_chat("What is 2 + 3?", "5", "Be brief.")
    tokenized = tokenize_chat(chat, tokenizer, max_length=128)
    prompt = ids(tokenizer, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n"
                            "What is 2 + 3?<|im_end|>\n<|im_start|>assistant\n")
    response = ids(tokenizer, "5<|im_end|>\n")
    assert tokenized.input_ids == prompt + response
    assert tokenized.labels == [IGNORE] * len(prompt) + response
    assert tokenized.prompt_length == len(prompt) and not tokenized.truncated


def test_every_assistant_turn_of_a_chat_is_learned_and_nothing_else(tokenizer):
    chat = (("user", "Hi"), ("assistant", "Hello"), ("user", "Bye"), ("assistant", "Ciao"))
    tokenized = tokenize_chat(chat, tokenizer, max_length=256)
    learned = [i for i, label in zip(tokenized.input_ids, tokenized.labels) if label != IGNORE]
    assert tokenizer.decode(learned) == "Hello<|im_end|>\nCiao<|im_end|>\n"


def test_without_a_template_the_response_ends_with_eos(bare_tokenizer):
    tokenized = tokenize_chat(prompt_response_chat("Review: fine\nSentiment:", " positive", None),
                              bare_tokenizer, max_length=64)
    prompt = bare_tokenizer("Review: fine\nSentiment:")["input_ids"]
    response = ids(bare_tokenizer, " positive") + [bare_tokenizer.eos_token_id]
    assert tokenized.input_ids == prompt + response
    assert tokenized.labels == [IGNORE] * len(prompt) + response


def test_a_chat_of_several_turns_needs_a_template(bare_tokenizer):
    chat = (("user", "Hi"), ("assistant", "Hello"), ("user", "Bye"), ("assistant", "Ciao"))
    with pytest.raises(ChatTemplateError, match="needs a tokenizer with a chat template"):
        tokenize_chat(chat, bare_tokenizer, max_length=64)


def test_truncation_is_counted_and_an_example_cut_to_its_prompt_is_left_out(tokenizer):
    short = prompt_response_chat("Hi", "Hello there, friend", None)
    full = tokenize_chat(short, tokenizer, max_length=1000)
    prompt_only = full.prompt_length
    kept, cut = tokenize_all([short, short], tokenizer, max_length=prompt_only + 2)
    assert cut == 2 and len(kept) == 2 and all(len(t.input_ids) == prompt_only + 2 for t in kept)
    assert all(t.labels[-2:] == t.input_ids[-2:] for t in kept)
    kept, cut = tokenize_all([short], tokenizer, max_length=prompt_only)
    assert (kept, cut) == ([], 1)
    kept, cut = tokenize_all([short], tokenizer, max_length=1000)
    assert cut == 0 and len(kept) == 1


def test_batches_pad_on_the_right_with_ignored_labels(tokenizer):
    a = tokenize_chat(prompt_response_chat("Hi", "Hello", None), tokenizer, 64)
    b = tokenize_chat(prompt_response_chat("Hello there", "Yes, hello", None), tokenizer, 64)
    batch = make_collate(pad_id=tokenizer.pad_token_id)([a, b])
    width = max(len(a.input_ids), len(b.input_ids))
    assert batch["input_ids"].shape == (2, width)
    short = 0 if len(a.input_ids) < width else 1
    n = len((a, b)[short].input_ids)
    assert batch["attention_mask"][short].tolist() == [1] * n + [0] * (width - n)
    assert batch["labels"][short, n:].tolist() == [IGNORE] * (width - n)
    assert batch["input_ids"][short, n:].tolist() == [tokenizer.pad_token_id] * (width - n)


def test_mean_token_loss_and_its_standard_error():
    # Two examples: 3 tokens summing to 3.0, and 1 token of loss 1.0: every token lost 1.0.
    s, t = [3.0, 1.0], [3.0, 1.0]
    sums = [2, sum(s), sum(t), sum(x * x for x in s), sum(x * x for x in t),
            sum(x * y for x, y in zip(s, t))]
    figures = _loss_figures(*sums)
    assert figures["loss"] == pytest.approx(1.0) and figures["loss_se"] == pytest.approx(0.0)
    assert figures["perplexity"] == pytest.approx(math.e)
    assert math.isnan(_loss_figures(0, 0, 0, 0, 0, 0)["loss"])


@pytest.mark.parametrize("row, message", [
    ({"question": "q", "response": "r"}, "line 3 has no 'prompt' (nor 'messages')"),
    ({"prompt": "q"}, "line 3 has no 'response'"),
    ({"messages": []}, "line 3: 'messages' must be a non-empty list"),
    ({"messages": [{"role": "user", "content": "q"}]},
     "line 3: 'messages' must end with an assistant message"),
    ({"messages": [{"role": "bot", "content": "q"}]}, "each message needs a role"),
])
def test_rows_that_make_no_chat(row, message):
    with pytest.raises(DataFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        chat_of_row(3, row, DataSettings())


def test_prompt_template_and_response_values_turn_labelled_text_into_instructions():
    data = DataSettings(prompt_template="Review: {sentence}\nSentiment:", response_column="label",
                        response_values={"0": "negative", "1": "positive"})
    chat = chat_of_row(2, {"sentence": "a fine film", "label": "1"}, data)
    assert chat == (("user", "Review: a fine film\nSentiment:"), ("assistant", "positive"))
    with pytest.raises(DataFileError, match="'label' is '7', which data.response_values"):
        chat_of_row(2, {"sentence": "x", "label": "7"}, data)
    with pytest.raises(DataFileError, match="line 2 has no 'sentence', which data.prompt_templ"):
        chat_of_row(2, {"text": "x", "label": "1"}, data)


def test_the_instruction_task_is_deterministic_noisy_in_training_and_clean_in_test():
    first = make_instruction_splits(200, 50, 100, 0.3, seed=7)
    assert first == make_instruction_splits(200, 50, 100, 0.3, seed=7)
    clean = make_instruction_splits(200, 50, 100, 0.0, seed=7)

    def right(prompt: str, answer: str) -> bool:
        if prompt.startswith("What is ") and "+" in prompt:
            a, b = prompt.removeprefix("What is ").rstrip("?").split(" + ")
            return answer == str(int(a) + int(b))
        return True

    assert all(right(p, r) for p, r in clean["train"])
    wrong = sum(not right(p, r) for p, r in first["train"])
    assert wrong > 0 and all(right(p, r) for p, r in first["test"])
    data = DataSettings(system_prompt="Be brief.")
    splits = load_chat_splits(data)
    assert splits.train[0][0] == ("system", "Be brief.") and len(splits.test) == 256
