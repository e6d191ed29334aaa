"""basin check's measurements: the basin radius on a loss whose answer is known, the model left
exactly as it was (in memory and on disk), the same seed giving the same figures on both tasks,
and the ``robust`` criterion built on them."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import pytest
import torch
from peft import LoraConfig, get_peft_model

from search.selection.candidates import Candidate
from search.selection.robust import RobustCriterion
from search.spec.model import trial_settings, validate_spec
from tests.conftest import tiny_sweep
from tests.integration.test_causal_lm_sweep import causal_sweep
from trainables.check.candidate import check_checkpoint, length_sorted_batches
from trainables.check.flatness import adapted_layers, basin_radius, measure_flatness, perturbed
from trainables.check.scoring import checkpoint_model
from trainables.check.settings import CheckSettings
from trainables.recipe.setup import seed_everything
from trainables.settings import Hyperparameters
from trainables.tasks import warm_task
from trainables.tasks.base import fixed_sample


def lora_toy(seed: int = 0):
    """Two linear layers with LoRA adapters whose update is not zero (peft starts B at 0)."""
    torch.manual_seed(seed)
    model = get_peft_model(torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Linear(5, 4)),
                           LoraConfig(r=2, lora_alpha=4, target_modules=["0", "1"]))
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "lora_B" in name:
                parameter.normal_()
    return model


def quadratic(model, curvature: float):
    """Loss 1 + curvature/2 * |W - W_trained|^2 over the adapted layers' weights, read from the
    base weights the perturbation moves: its increase at radius r is known exactly."""
    layers = adapted_layers(model)
    trained = [layer.weight.detach().clone() for layer in layers]

    def loss_of(_model) -> float:
        return 1 + curvature / 2 * sum(float(((layer.weight - start) ** 2).sum())
                                       for layer, start in zip(layers, trained))
    return loss_of, sum(layer.update_norm ** 2 for layer in layers)


def test_a_quadratic_loss_has_the_radius_that_theory_gives():
    model = lora_toy()
    loss_of, squared_norm = quadratic(model, curvature=3.0)
    tolerance = 0.05  # of the loss at the trained weights, 1
    # increase(r) = curvature/2 * r^2 * sum of squared update norms, in every direction
    expected = math.sqrt(2 * tolerance / (3.0 * squared_norm))
    figures = measure_flatness(model, loss_of, radii=[expected / 4, expected * 4], directions=3,
                               tolerance=tolerance, max_radius=expected * 16, steps=12, seed=0)
    assert figures.radius <= expected < figures.radius * 16 ** (1 / 2 ** 12) * 1.0001
    assert figures.increases[expected / 4] == pytest.approx(tolerance / 16, rel=1e-4)
    assert figures.increases[expected * 4] == pytest.approx(tolerance * 16, rel=1e-4)


def test_bisection_brackets_the_edge_from_what_is_known_and_caps_at_max_radius():
    calls = []

    def increase(radius: float) -> float:
        calls.append(radius)
        return radius ** 2

    assert basin_radius(increase, limit=4.0, max_radius=100, steps=20,
                        known={1.0: 1.0, 10.0: 100.0}) == pytest.approx(2.0, rel=1e-5)
    assert 100 not in calls  # the known radius 10 was already outside: no need to go further
    assert basin_radius(lambda r: 0.0, 1.0, max_radius=8, steps=5) == 8  # never leaves it
    assert basin_radius(lambda r: 1.0, 0.5, max_radius=8, steps=3) == 0.0  # always outside


def test_measuring_puts_every_weight_back_bit_for_bit():
    model = lora_toy()
    before = {name: p.detach().clone() for name, p in model.state_dict().items()}
    loss_of, _ = quadratic(model, curvature=1.0)
    measure_flatness(model, loss_of, [0.5, 2.0], 3, 0.05, 8.0, 4, seed=1)
    with perturbed(adapted_layers(model), 5.0, seed=0, index=0):
        assert not torch.equal(model.state_dict()["base_model.model.0.base_layer.weight"],
                               before["base_model.model.0.base_layer.weight"])
    after = model.state_dict()
    assert all(torch.equal(after[name], value) for name, value in before.items())


def test_a_model_without_adapters_is_refused():
    with pytest.raises(ValueError, match="no LoRA-adapted layer"):
        adapted_layers(torch.nn.Linear(3, 3))


def saved_checkpoint(tmp_path: Path, raw_sweep: dict) -> tuple:
    """A trial's checkpoint as the loop saves it (adapter, and a classifier's head), its
    adapter moved away from zero so that there is an update to scale directions to."""
    spec = validate_spec(raw_sweep)
    settings = trial_settings(spec)
    hp = Hyperparameters(lora_r=4, seed=0)
    seed_everything(0)  # lora_A's init: the same checkpoint in every process
    model = warm_task(settings).build_model(hp)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "lora_B" in name:
                parameter.normal_(std=0.05, generator=torch.Generator().manual_seed(1))
    folder = tmp_path / "step_00000004"
    model.save_pretrained(folder)
    return hp, settings, folder


def fingerprint(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


@pytest.mark.parametrize("task", ["sequence-classification", "causal-lm"])
def test_a_checkpoint_is_measured_without_changing_it_and_the_same_seed_repeats(tmp_path, task):
    raw = tiny_sweep(tmp_path) if task == "sequence-classification" else causal_sweep(tmp_path)
    hp, settings, folder = saved_checkpoint(tmp_path, raw)
    on_disk = fingerprint(folder)
    check = CheckSettings(radii=[0.5, 2.0], directions=2, max_radius=16, bisection_steps=2,
                          examples=16)
    first = check_checkpoint(hp, settings, folder, check, torch.device("cpu"))
    again = check_checkpoint(hp, settings, folder, check, torch.device("cpu"))
    other = check_checkpoint(hp, settings, folder, check.model_copy(update={"seed": 7}),
                             torch.device("cpu"))
    assert fingerprint(folder) == on_disk
    same = {k: v for k, v in first.items() if k != "seconds"}
    assert same == {k: v for k, v in again.items() if k != "seconds"}
    assert other["increase"] != first["increase"]  # other directions, other increases
    assert set(first["increase"]) == {"0.5", "2"} and first["evaluations"] >= 5
    assert 0 <= first["basin_radius"] <= 16
    assert "drift" not in first  # every trial measures it at every evaluation now


@pytest.mark.parametrize("task", ["sequence-classification", "causal-lm"])
def test_the_check_measures_length_sorted_batches_with_the_same_loss(tmp_path, task):
    raw = tiny_sweep(tmp_path) if task == "sequence-classification" else causal_sweep(tmp_path)
    hp, settings, folder = saved_checkpoint(tmp_path, raw)
    task_, model = checkpoint_model(hp, settings, folder)
    examples = fixed_sample(task_.data.validation, 24, seed=0)
    batches = length_sorted_batches(task_, examples, batch_size=4)
    widths = [int(batch["input_ids"].shape[1]) for batch in batches]
    assert widths == sorted(widths) and len(set(widths)) > 1  # sorted, and lengths do differ
    assert sum(len(batch["labels"]) for batch in batches) == len(examples)
    plain = task_.make_loader(examples, 4, rank=0, world_size=1, shuffle=False, seed=0)
    padded = sum(int(b["input_ids"].numel()) for b in plain)
    assert sum(int(b["input_ids"].numel()) for b in batches) < padded
    device = torch.device("cpu")
    assert task_.loss(model, batches, device) == pytest.approx(
        task_.loss(model, plain, device), rel=1e-6)


def candidate(trial: str, val_loss: float, radius: float | None = None,
              drift: float | None = None, se: float = 0.02) -> Candidate:
    return Candidate(trial, 10, {}, val_loss, val_loss, val_loss, se, 0.1, 0.1, "", "completed",
                     basin_radius=radius, drift=drift)


def test_robust_takes_the_widest_checked_basin_within_one_standard_error():
    best = candidate("best", 0.50, radius=4.0, drift=0.1)
    wide = candidate("wide", 0.515, radius=9.0, drift=0.3)
    wide_kept = candidate("kept", 0.519, radius=9.0, drift=0.1)
    outside = candidate("outside", 0.60, radius=50.0, drift=0.0)
    unchecked = candidate("unchecked", 0.51)
    ranked = RobustCriterion().rank([best, wide, wide_kept, outside, unchecked])
    assert [c.trial_id for c in ranked] == ["kept", "wide", "best", "unchecked", "outside"]
    why = RobustCriterion().why(ranked[0], [best, wide, wide_kept, outside, unchecked],
                                "val_loss")
    assert "widest basin (radius 9" in why and "3 checked candidates" in why


def test_robust_before_any_check_is_the_objective_and_says_so():
    candidates = [candidate("b", 0.52), candidate("a", 0.50)]
    ranked = RobustCriterion().rank(candidates)
    assert [c.trial_id for c in ranked] == ["a", "b"]
    assert "run basin check" in RobustCriterion().why(ranked[0], candidates, "val_loss")


@pytest.mark.parametrize("field, value, message", [
    ("top", 0, "greater than or equal to 1"),
    ("radii", [1.0, -2.0], "every radius must be > 0 (got -2.0)"),
    ("radii", [], "at least 1 item"),
    ("max_radius", 0, "greater than 0"),
    ("directions", 0, "greater than or equal to 1"),
])
def test_bad_check_settings_name_the_field(field, value, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        CheckSettings(**{field: value})


def test_check_on_a_run_whose_base_model_is_gone_is_one_line_and_exit_2(tmp_path, capsys):
    import yaml

    from search.cli.main import main

    run = tmp_path / "runs" / "tiny-20260101-000000"
    run.mkdir(parents=True)
    sweep = tiny_sweep(tmp_path, model={"name": str(tmp_path / "deleted-model")})
    (run / "sweep.yaml").write_text(yaml.safe_dump(sweep))
    assert main(["check", str(run)]) == 2
    error = capsys.readouterr().err.strip()
    assert error == (f"{run}/sweep.yaml: model: model folder does not exist (got "
                     f"'{tmp_path / 'deleted-model'}')")
