"""The model check reads what the task builds from its declaration (``TaskModel``): a task from
outside basin that builds a token classifier is checked as one, with its own words first."""

from __future__ import annotations

from tests.conftest import TINY_BERT
from trainables.models.validation import TaskModel, check_model
from trainables.settings import ModelSettings
from trainables.tasks import declared

TOKENS = TaskModel("AutoModelForTokenClassification")
BART = {"model_type": "bart", "vocab_size": 100, "d_model": 16, "encoder_layers": 1,
        "decoder_layers": 1, "encoder_attention_heads": 2, "decoder_attention_heads": 2,
        "encoder_ffn_dim": 32, "decoder_ffn_dim": 32}


def tiny(config: dict, targets: list[str] | None = None) -> ModelSettings:
    return ModelSettings(name="tiny", task="token-tags", random_init_config=config,
                         lora_target_modules=targets)


def test_a_token_classifier_task_finds_its_targets_in_the_model_it_builds():
    assert check_model(tiny(TINY_BERT, ["query", "value"]), TOKENS) == []
    ((field, message),) = check_model(tiny(TINY_BERT, ["query", "nope"]), TOKENS)
    assert field == "model.lora_target_modules" and "'nope'" in message


def test_an_architecture_the_task_s_class_does_not_build_is_refused_in_its_words():
    assert check_model(tiny(BART), TOKENS) == [(
        "model.task", "a 'bart' model has no token-classification head in transformers, so "
        "task 'token-tags' cannot train it (got model.random_init_config)")]
    assert check_model(tiny(BART), TaskModel()) == []  # bart classifies sequences


def test_the_task_s_own_check_speaks_first_and_a_bad_class_is_named():
    def no_bert(config: dict) -> str | None:
        return "token-tags trains cased models only" if config["model_type"] == "bert" else None

    assert check_model(tiny(TINY_BERT), TaskModel(check=no_bert)) == [
        ("model.task", "token-tags trains cased models only (got model.random_init_config)")]
    assert check_model(tiny(TINY_BERT), TaskModel("AutoTokenizer")) == [(
        "model.task", "task 'token-tags' builds its model with 'AutoTokenizer', which is not "
        "one of transformers' Auto classes (e.g. AutoModelForTokenClassification)")]


def test_the_built_in_tasks_declare_what_they_build():
    causal = declared("causal-lm")
    assert causal.model_class == "AutoModelForCausalLM"
    assert "not a causal language model" in causal.model_config_check()({"model_type": "bert"})
    assert causal.model_config_check()({"model_type": "llama"}) is None
    classifier = declared("sequence-classification")
    assert (classifier.model_class, classifier.model_config_check()) == (
        "AutoModelForSequenceClassification", None)
