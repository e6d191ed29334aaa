"""Retention (``drift``): the coarse-grained KL against the full one, an unchanged adapter at 0,
the kept base side equal to a fresh measurement, and a moved adapter measured as moved, on both
tasks' tiny models."""

from __future__ import annotations

import math

import pytest
import torch

from search.spec.model import trial_settings, validate_spec
from tests.conftest import tiny_sweep
from tests.integration.test_causal_lm_sweep import causal_sweep
from trainables.contract import DRIFT
from trainables.recipe.setup import seed_everything
from trainables.settings import Hyperparameters
from trainables.tasks import task_for
from trainables.tasks.retention import coarse_distributions, coarse_kl

CPU = torch.device("cpu")
TASKS = ["sequence-classification", "causal-lm"]


def full_kl(base_logits: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    p, q = (torch.log_softmax(x.double(), dim=-1) for x in (base_logits, logits))
    terms = p.exp() * (p - q)
    return torch.where(p > float("-inf"), terms, torch.zeros_like(terms)).sum(-1)  # 0 log 0 = 0


def test_the_coarse_kl_is_the_full_kl_with_every_token_and_a_lower_bound_with_fewer():
    generator = torch.Generator().manual_seed(0)
    base = torch.randn(12, 50, generator=generator) * 3
    tuned = base + torch.randn(12, 50, generator=generator)
    exact = full_kl(base, tuned)
    assert torch.allclose(coarse_kl(coarse_distributions(base, top=50), tuned), exact)
    for top in (1, 5, 20):
        coarse = coarse_kl(coarse_distributions(base, top=top), tuned)
        assert bool((coarse >= -1e-12).all()) and bool((coarse <= exact + 1e-12).all())
    assert coarse_kl(coarse_distributions(base, top=5), base).abs().max() == 0


def test_a_bin_the_base_gives_no_mass_adds_nothing():
    base = torch.tensor([[0.0, 0.0, float("-inf")]])  # the third token: probability 0
    tuned = torch.tensor([[0.0, 0.0, 5.0]])
    kl = coarse_kl(coarse_distributions(base, top=2), tuned)
    assert math.isfinite(float(kl)) and float(kl) == pytest.approx(float(full_kl(base, tuned)))


def sweep(task: str, tmp_path) -> dict:
    return tiny_sweep(tmp_path) if task == "sequence-classification" else causal_sweep(tmp_path)


def fresh_task_and_model(task: str, tmp_path, moved: bool):
    """A new task (nothing kept) and the trial's peft model at step 0, or with its adapter
    moved away from zero (peft starts lora_B at 0)."""
    settings = trial_settings(validate_spec(sweep(task, tmp_path), "tiny"))
    seed_everything(0)
    measured = task_for(settings)
    model = measured.build_model(Hyperparameters(lora_r=4, seed=0)).eval()
    if moved:
        with torch.no_grad():
            for name, parameter in model.named_parameters():
                if "lora_B" in name:
                    parameter.normal_(std=0.05, generator=torch.Generator().manual_seed(1))
    return measured, model


@pytest.mark.parametrize("task", TASKS)
def test_an_unchanged_adapter_has_drift_zero(task, tmp_path):
    measured, model = fresh_task_and_model(task, tmp_path, moved=False)
    figures = measured.retention(model, 4, CPU)
    assert figures[DRIFT] == pytest.approx(0.0, abs=1e-6)
    for value in figures.values():  # the causal LM's KL too
        assert value == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("task", TASKS)
def test_the_kept_base_side_gives_what_measuring_it_again_gives(task, tmp_path):
    measured, model = fresh_task_and_model(task, tmp_path, moved=True)
    first = measured.retention(model, 4, CPU)  # measures the base side and keeps it
    kept = measured.retention(model, 4, CPU)   # reads it
    again, _ = fresh_task_and_model(task, tmp_path, moved=True)
    recomputed = again.retention(model, 4, CPU)  # a new task measures it afresh
    assert first == kept == recomputed
    # The adapter moved the outputs: an encoder's drift and a causal LM's KL grow; its drift, the
    # answer-loss excess, moves either way (a random tiny model can grow surer of its answers).
    assert abs(first[DRIFT]) > 1e-6 and first.get("drift_kl", first[DRIFT]) > 1e-6
    assert all(math.isfinite(value) for value in first.values())
    assert len(measured._general) == 1  # one base side, kept


def test_the_causal_lm_drift_is_measured_on_the_base_models_answers_in_eval_mode(tmp_path):
    measured, model = fresh_task_and_model("causal-lm", tmp_path, moved=True)
    model.train()
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    figures = measured.retention(model, 4, CPU)
    assert model.training  # put back as it was
    assert all(torch.equal(before[name], p) for name, p in model.named_parameters())
    assert set(figures) == {DRIFT, "drift_kl"}
    (base,) = measured._general.values()
    assert base.tokens > 0 and len(base.batches) == len(base.distributions)
