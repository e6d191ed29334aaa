"""Exact match, computed through the real greedy generation: a chat counts when the model's
greedy answer is its response (surrounding whitespace aside), and the figure is the share."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from tests.conftest import TINY_LLAMA
from trainables.settings import (
    DataSettings,
    DemoTaskSettings,
    GenerationSettings,
    Hyperparameters,
    ModelSettings,
    TrialSettings,
)
from trainables.tasks.causal_lm.task import CausalLM


def test_exact_match_is_the_share_of_greedy_answers_equal_to_the_response():
    task = CausalLM(TrialSettings(
        # Untied embeddings: a random head says random words (a tied one repeats the prompt's
        # last token, a newline that strips to nothing).
        model=ModelSettings(name="tiny-llama", task="causal-lm", lora_target_modules=["q_proj"],
                            random_init_config={**TINY_LLAMA, "tie_word_embeddings": False}),
        data=DataSettings(source="demo", demo=DemoTaskSettings(
            train_size=8, validation_size=8, test_size=4), max_length=48),
        generation=GenerationSettings(exact_match_samples=8, max_new_tokens=4)))
    torch.manual_seed(0)
    model = task.build_model(Hyperparameters(lora_r=2))
    chats = task.data.validation[:8]
    cpu = torch.device("cpu")
    answers = task.greedy_answers(model, chats, cpu)
    assert all(answers) and len(set(answers)) > 1, answers
    # The model's own answers as responses for three chats (one padded with spaces), a
    # near miss for the others: 3 of 8.
    responses = [f"  {answers[0]}\n", answers[1], answers[2]] + [a + "!" for a in answers[3:]]
    graded = [replace(chat, response=response) for chat, response in zip(chats, responses)]
    assert task._exact_match(model, graded, cpu) == pytest.approx(3 / 8)
    assert task._exact_match(model, graded[3:], cpu) == 0.0
    assert task._exact_match(model, graded[:3], cpu) == 1.0
