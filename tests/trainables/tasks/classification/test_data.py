"""The demo task and local data files."""

from __future__ import annotations

import json

import pytest

from trainables.settings import DataSettings
from trainables.tasks.base import fixed_sample
from trainables.tasks.classification.data import load_splits
from trainables.tasks.classification.demo import make_demo_splits


def test_demo_task_is_deterministic_and_noisy():
    first = make_demo_splits(400, 400, 400, label_noise=0.2, seed=7)
    assert first == make_demo_splits(400, 400, 400, label_noise=0.2, seed=7)
    assert first != make_demo_splits(400, 400, 400, label_noise=0.2, seed=8)
    clean = make_demo_splits(400, 400, 400, label_noise=0.0, seed=7)
    flipped = sum(a[1] != b[1] for a, b in zip(first["train"], clean["train"]))
    assert 40 < flipped < 120  # about 20% of 400
    assert first["test"] == clean["test"]  # the test split is never noisy
    labels = [label for _, label in clean["train"]]
    assert 0.3 < sum(labels) / len(labels) < 0.7


def test_files_with_string_labels_and_carved_validation(tmp_path):
    rows = [{"review": f"film number {i}", "sentiment": "pos" if i % 2 else "neg"} for i in range(50)]
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    settings = DataSettings(source="files", train_file=str(path), text_column="review",
                            label_column="sentiment", validation_fraction=0.2)
    splits = load_splits(settings)
    assert splits.label_names == ["neg", "pos"]
    assert len(splits.train) == 40 and len(splits.validation) == 10 and splits.test == []
    assert {text for text, _ in splits.train}.isdisjoint({text for text, _ in splits.validation})


def test_validation_labels_must_be_known(tmp_path):
    (tmp_path / "train.csv").write_text("text,label\na,x\nb,y\n")
    (tmp_path / "val.csv").write_text("text,label\nc,z\n")
    settings = DataSettings(source="files", train_file=str(tmp_path / "train.csv"),
                            validation_file=str(tmp_path / "val.csv"))
    with pytest.raises(ValueError, match=r"validation split has labels not seen in training: \['z'\]"):
        load_splits(settings)


def test_fixed_train_sample_is_the_same_for_every_trial():
    train = [(f"t{i}", i % 2) for i in range(100)]
    assert fixed_sample(train, 10, seed=3) == fixed_sample(train, 10, seed=3)
    assert len(fixed_sample(train, 500, seed=3)) == 100
