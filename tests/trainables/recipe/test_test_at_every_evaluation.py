"""``evaluate_test: every_evaluation`` (an extension point for learning-curve studies: the tables
of ``benchmarks/curve_tables.py`` use it): every evaluation carries the test split's figures,
and measuring them changes nothing the trial trains or reports otherwise."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from search.spec.model import trial_settings, validate_spec
from tests.conftest import tiny_sweep

pytestmark = pytest.mark.integration  # trains (DeepSpeed on CPU)


def _reports(tmp_path: Path, evaluate_test: str) -> list[dict]:
    from trainables.recipe.loop import train
    from trainables.settings import Hyperparameters

    raw = tiny_sweep(tmp_path / evaluate_test, training={
        "max_steps": 8, "eval_every": 4, "micro_batch_size": 8, "threads_per_worker": 1})
    settings = trial_settings(validate_spec(raw, "tiny")).model_copy(
        update={"evaluate_test": evaluate_test})
    reports: list[dict] = []

    def keep(metrics: dict, folder: str | None) -> None:
        reports.append(metrics)
        shutil.rmtree(folder, ignore_errors=True)

    train(Hyperparameters(learning_rate=5e-3, lora_r=4, lora_dropout=0.1, hidden_dropout=0.1),
          settings, keep)
    return reports


def test_the_test_split_at_every_evaluation_changes_nothing_else(tmp_path: Path) -> None:
    from search.lifecycle.foreground import join_process_group

    join_process_group(on_gpu=False)
    plain = _reports(tmp_path, "never")
    tested = _reports(tmp_path, "every_evaluation")
    evaluations = [row for row in tested if "step" in row]
    assert [row["step"] for row in evaluations] == [4, 8]
    assert all(0 < row["test_loss"] < 10 and row["test_seconds"] >= 0 for row in evaluations)
    assert evaluations[0]["test_loss"] != evaluations[1]["test_loss"]  # each step's weights
    assert not any("test_loss" in row for row in plain)
    shared = ("step", "train_loss", "train_eval_loss", "val_loss", "learning_rate")
    assert [[row.get(name) for name in shared] for row in plain] == \
        [[row.get(name) for name in shared] for row in tested]
