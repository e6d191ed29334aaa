"""What a warm worker keeps: the base weights read once, loaded without moving the trial's
random stream, and each trial's model naming its base as a fresh load does."""

from __future__ import annotations

import torch
from transformers import AutoConfig, AutoModelForSequenceClassification

from trainables import warm


def test_the_first_load_of_a_process_draws_what_a_warm_load_draws(tiny_pretrained):
    config = AutoConfig.from_pretrained(tiny_pretrained, num_labels=2)
    warm._weights.clear()  # a fresh process: nothing kept yet

    def load() -> tuple[torch.Tensor, float]:
        torch.manual_seed(0)
        model = warm.from_pretrained_once(AutoModelForSequenceClassification,
                                          str(tiny_pretrained), config)
        return model.classifier.weight.detach().clone(), torch.rand(1).item()

    (first_head, first_next), (warm_head, warm_next) = load(), load()
    # The head (missing from the checkpoint) drawn from the same point of the stream, and the
    # stream left at the same point after it: the trial's adapters and batches follow alike.
    assert torch.equal(first_head, warm_head) and first_next == warm_next


def test_a_kept_load_names_its_base(tiny_pretrained):
    config = AutoConfig.from_pretrained(tiny_pretrained, num_labels=2)
    model = warm.from_pretrained_once(AutoModelForSequenceClassification, str(tiny_pretrained),
                                      config)
    assert model.name_or_path == model.config._name_or_path == str(tiny_pretrained)
