"""Bad causal-LM input is refused before Ray starts: one line naming the file, the field and the
value (``basin validate``, exit code 2)."""

from __future__ import annotations

import json

import pytest

from search.cli.main import main
from search.core.errors import SpecError
from search.lifecycle.preflight import preflight
from search.spec.model import load_spec
from tests.conftest import TINY_BERT, TINY_LLAMA, write_sweep
from tests.integration.test_causal_lm_sweep import causal_sweep


def problems_of(tmp_path, **sections) -> list[str]:
    path = write_sweep(tmp_path / "sft.yaml", causal_sweep(tmp_path, **sections))
    with pytest.raises(SpecError) as caught:
        preflight(load_spec(path), "sft.yaml")
    return caught.value.problems


def files(tmp_path, train: str, **extra) -> dict:
    (tmp_path / "train.jsonl").write_text(train)
    return {"source": "files", "train_file": str(tmp_path / "train.jsonl"), "max_length": 48,
            "train_eval_samples": 8, **extra}


def test_the_tiny_causal_sweep_passes(tmp_path):
    preflight(load_spec(write_sweep(tmp_path / "sft.yaml", causal_sweep(tmp_path))), "sft.yaml")


@pytest.mark.parametrize("train, extra, expected", [
    ('{"question": "q", "response": "r"}\n', {},
     "sft.yaml: data.prompt_column: no column 'prompt' in {train} (has ['question', 'response']"),
    ('{"prompt": "q", "answer": "r"}\n', {},
     "sft.yaml: data.response_column: no column 'response' in {train}"),
    ("", {}, "sft.yaml: data.train_file: {train} is empty"),
    ('{"prompt": "q", "response": "r"}\n{"prompt": "q2"}\n', {},
     "sft.yaml: data.train_file: cannot read {train}: line 2 has no 'response'"),
    (('{"prompt": "' + "word " * 60 + '", "response": "r"}\n') * 4, {"max_length": 16},
     "sft.yaml: data.max_length: cuts every response away in the training data (prompts are "
     "longer than 16 tokens); raise it (got 16)"),
    ('{"prompt": "q", "response": "r"}\n', {},
     "sft.yaml: data.validation_fraction: leaves no training example"),
], ids=["no-prompt-column", "no-response-column", "empty", "row-without-response", "cut-away",
        "one-row"])
def test_bad_causal_lm_data(tmp_path, train, extra, expected):
    problems = problems_of(tmp_path, data=files(tmp_path, train, **extra))
    shown = str(tmp_path / "train.jsonl")
    assert any(p.startswith(expected.format(train=shown)) for p in problems), problems


def test_an_encoder_is_not_a_causal_lm_and_the_reverse_is_named_too(tmp_path):
    problems = problems_of(tmp_path, model={"name": "tiny", "task": "causal-lm",
                                            "random_init_config": TINY_BERT})
    assert problems == ["sft.yaml: model.task: a 'bert' model is not a causal language model "
                        "(it cannot generate text), so task 'causal-lm' cannot train it; use task "
                        "'sequence-classification' or a decoder model (got "
                        "model.random_init_config)"]
    problems = problems_of(tmp_path, model={
        "name": "tiny", "task": "sequence-classification",
        "random_init_config": {**TINY_LLAMA, "model_type": "codegen"}})
    assert problems[0].startswith("sft.yaml: model.task: a 'codegen' model has no "
                                  "sequence-classification head")


def test_chats_need_a_tokenizer_with_a_chat_template(tmp_path):
    from transformers import AutoConfig, AutoTokenizer

    from trainables.models.builtin_llm import tokenizer_for_random_models

    folder = tmp_path / "no-template"
    AutoConfig.for_model(**TINY_LLAMA).save_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_for_random_models())
    tokenizer.chat_template = None
    tokenizer.save_pretrained(folder)
    (folder / "chat_template.jinja").unlink(missing_ok=True)
    chat = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant",
                                                             "content": "Hello"}]}
    problems = problems_of(tmp_path, model={"name": str(folder), "task": "causal-lm"},
                           data=files(tmp_path, (json.dumps(chat) + "\n") * 3))
    assert problems == [f"sft.yaml: data.messages_column: rows give chats in 'messages', but the "
                        f"tokenizer of {folder} has no chat template to render them; give a "
                        f"prompt and a response instead"]


@pytest.mark.parametrize("override, expected", [
    ("objective.metric=val_accuracy", "objective.metric: task 'causal-lm' reports no "
     "'val_accuracy' (choose from ['val_loss', 'val_perplexity', 'val_exact_match'"),
    ("objective.metric=val_exact_match", "objective.metric 'val_exact_match' needs "
     "generation.exact_match_samples > 0 (got 0)"),
    ("model.name=builtin:llama", "model.name: no built-in model 'builtin:llama' (choose from "
     "['builtin:minilm', 'builtin:smollm2-135m-instruct'])"),
    ("generation.max_new_tokens=0", "generation.max_new_tokens: Input should be greater than 0"),
])
def test_bad_causal_lm_settings_in_the_sweep_file(tmp_path, capsys, override, expected):
    sweep = causal_sweep(tmp_path, generation={})
    path = write_sweep(tmp_path / "sft.yaml", sweep)
    assert main(["validate", str(path), "--set", override]) == 2
    assert expected in capsys.readouterr().err


def test_the_built_in_llm_sweep_validates():
    assert main(["validate", "sweeps/smollm2_sft.yaml"]) == 0
