"""A recipe's hash: equal for what must compute the same figures, different otherwise."""

from __future__ import annotations

from pathlib import Path

from search.spec.model import trial_settings, validate_spec
from tests.conftest import overfitting_data, tiny_sweep
from trainables.fingerprint import PACKAGES, file_digest, library_versions, recipe_hash
from trainables.settings import Hyperparameters

HP = Hyperparameters(learning_rate=1e-3, lora_r=4)


def settings_of(tmp_path: Path, **sections):
    return trial_settings(validate_spec(tiny_sweep(tmp_path, **sections), "tiny"))


def test_where_a_recipe_stops_and_whether_it_scores_the_test_split_change_no_hash(tmp_path):
    plain = settings_of(tmp_path)
    stopped = plain.model_copy(update={
        "training": plain.training.model_copy(update={"stop_at_step": 8}),
        "evaluate_test": "best_step"})
    assert recipe_hash(plain, HP) == recipe_hash(stopped, HP)
    # A default written out is the same recipe.
    assert recipe_hash(plain, HP) == recipe_hash(plain, Hyperparameters(
        learning_rate=1e-3, lora_r=4, warmup_ratio=0.0))


def test_a_hyperparameter_a_setting_or_the_seed_changes_the_hash(tmp_path):
    plain = settings_of(tmp_path)
    reference = recipe_hash(plain, HP)
    assert recipe_hash(plain, HP.model_copy(update={"lora_dropout": 0.1})) != reference
    assert recipe_hash(plain, HP.model_copy(update={"seed": 1})) != reference
    longer = plain.model_copy(update={
        "training": plain.training.model_copy(update={"max_steps": 13})})
    assert recipe_hash(longer, HP) != reference
    assert recipe_hash(plain.model_copy(update={"workers": 2}), HP) != reference


def test_data_files_count_by_their_content_not_their_place(tmp_path):
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir(), there.mkdir()
    first = recipe_hash(settings_of(tmp_path, data=overfitting_data(here)), HP)
    data = overfitting_data(there)  # (writes the same files there)
    assert recipe_hash(settings_of(tmp_path, data=data), HP) == first
    (there / "val.tsv").write_text((there / "val.tsv").read_text() + "one more row\t1\n")
    assert recipe_hash(settings_of(tmp_path, data=data), HP) != first
    assert file_digest(str(tmp_path / "absent.tsv")) == "missing"


def test_library_versions_name_every_package():
    versions = library_versions()
    assert list(versions) == list(PACKAGES)
    assert versions["torch"].startswith("2.") and versions["basin"] != "not installed"
