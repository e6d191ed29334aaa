"""A trial stopped at an evaluation and resumed from that evaluation's checkpoint (a frozen trial
thawed, a trial restarted after a crash) continues its curve exactly: the same batches, the
same schedule, the same dropout masks, evaluation for evaluation."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from search.spec.model import trial_settings, validate_spec
from tests.conftest import tiny_sweep

pytestmark = pytest.mark.integration  # trains (DeepSpeed on CPU)


class Paused(Exception):
    """Raised by the report at the step the test pauses at."""


def _settings(tmp_path: Path):
    raw = tiny_sweep(tmp_path, training={"max_steps": 12, "eval_every": 4,
                                         "micro_batch_size": 8, "threads_per_worker": 1})
    return trial_settings(validate_spec(raw, "tiny"))


def _curve(rows: list[dict]) -> list[tuple]:
    return [(row["step"], row["train_loss"], row["train_eval_loss"], row["val_loss"],
             row["learning_rate"]) for row in rows]


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_a_resumed_trial_continues_its_curve_exactly(tmp_path: Path, dropout: float) -> None:
    from search.lifecycle.foreground import join_process_group
    from trainables.recipe.loop import train
    from trainables.settings import Hyperparameters

    join_process_group(on_gpu=False)
    settings = _settings(tmp_path)
    hp = Hyperparameters(learning_rate=5e-3, lora_r=4, lora_dropout=dropout, hidden_dropout=0.1)
    whole: list[dict] = []

    def keep(metrics: dict, folder: str | None) -> None:
        whole.append(metrics)
        shutil.rmtree(folder, ignore_errors=True)

    train(hp, settings, keep)

    kept = tmp_path / "paused-at-4"

    def pause_at_4(metrics: dict, folder: str | None) -> None:
        shutil.copytree(folder, kept)
        shutil.rmtree(folder, ignore_errors=True)
        raise Paused

    with pytest.raises(Paused):
        train(hp, settings, pause_at_4)
    resumed: list[dict] = []
    train(hp, settings, keep_into(resumed), resume_from=str(kept))
    assert [row["step"] for row in resumed] == [8, 12]
    assert _curve(resumed) == _curve(whole[1:])


def keep_into(rows: list[dict]):
    def report(metrics: dict, folder: str | None) -> None:
        rows.append(metrics)
        shutil.rmtree(folder, ignore_errors=True)
    return report


def test_measuring_the_drift_leaves_the_curve_as_it_is(tmp_path: Path) -> None:
    """Retention is measured at every evaluation without touching the trial's random stream:
    the same curve, dropout and all, with it and without it."""
    from search.lifecycle.foreground import join_process_group
    from trainables.recipe.loop import train
    from trainables.settings import Hyperparameters

    join_process_group(on_gpu=False)
    hp = Hyperparameters(learning_rate=5e-3, lora_r=4, lora_dropout=0.3, hidden_dropout=0.1)
    curves = {}
    for enabled in (True, False):
        settings = _settings(tmp_path)
        settings.retention.enabled = enabled
        rows: list[dict] = []
        train(hp, settings, lambda metrics, folder: rows.append(metrics))
        curves[enabled] = rows
    assert _curve(curves[True]) == _curve(curves[False])
    assert all(row["drift"] >= 0 and row["drift_seconds"] > 0 for row in curves[True])
    assert curves[True][-1]["drift"] > 0  # it trained: the embeddings moved
    assert not any("drift" in row for row in curves[False])
