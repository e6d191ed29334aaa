"""Text classification data: load the splits, map labels, and batch them for one worker.

Sources: the built-in demo task, local CSV/TSV/JSONL files with named text and label columns, or
a Hugging Face dataset (only for users with network; nothing here downloads by default).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from trainables.data_files import assemble_splits, read_examples
from trainables.evaluation import own_generator
from trainables.settings import DataSettings
from trainables.tasks.classification.demo import make_demo_splits

Example = tuple[str, Any]


@dataclass
class Splits:
    """The labelled examples of a task, with labels already mapped to ids 0..n-1."""

    train: list[tuple[str, int]]
    validation: list[tuple[str, int]]
    test: list[tuple[str, int]]
    label_names: list[str]


def _read_hf(data: DataSettings) -> dict[str, list[Example]]:
    try:
        import datasets  # optional: only users with network and the package use this source
    except ImportError as error:
        raise RuntimeError("data.source 'hf' needs `pip install datasets` and network") from error
    loaded = datasets.load_dataset(data.hf_dataset, data.hf_config)
    return {
        split: [(str(row[data.text_column]), row[data.label_column]) for row in loaded[split]]
        for split in loaded
    }


def load_splits(data: DataSettings, seed: int = 0) -> Splits:
    """Load train/validation/test examples and map labels to contiguous ids.

    Label ids are assigned from the sorted distinct training labels, so every worker and every
    trial agrees on them.
    """
    if data.source == "demo":
        demo = data.demo
        raw = make_demo_splits(
            demo.train_size, demo.validation_size, demo.test_size, demo.label_noise, demo.seed
        )
        return Splits(raw["train"], raw["validation"], raw["test"], ["negative", "positive"])
    train, validation, test = assemble_splits(
        data, lambda path: read_examples(path, data.text_column, data.label_column),
        lambda: _read_hf(data), seed)
    label_names = sorted({str(label) for _, label in train})
    ids = {name: index for index, name in enumerate(label_names)}

    def mapped(examples: list[Example], split: str) -> list[tuple[str, int]]:
        unknown = {str(label) for _, label in examples} - ids.keys()
        if unknown:
            raise ValueError(f"{split} split has labels not seen in training: {sorted(unknown)}")
        return [(text, ids[str(label)]) for text, label in examples]

    return Splits(
        mapped(train, "train"), mapped(validation, "validation"), mapped(test, "test"), label_names
    )


class _Examples(Dataset):
    def __init__(self, examples: list[tuple[str, int]]):
        self.examples = examples

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> tuple[str, int]:
        return self.examples[index]


def make_collate(tokenizer: Any, max_length: int) -> Callable[[list[tuple[str, int]]], dict]:
    """Turn a list of (text, label id) into a tokenized batch padded to its longest text."""

    def collate(batch: list[tuple[str, int]]) -> dict[str, torch.Tensor]:
        texts, labels = zip(*batch)
        encoded = tokenizer(
            list(texts), truncation=True, max_length=max_length, padding=True, return_tensors="pt"
        )
        encoded["labels"] = torch.tensor(labels, dtype=torch.long)
        return dict(encoded)

    return collate


def make_loader(
    examples: list[tuple[str, int]],
    tokenizer: Any,
    batch_size: int,
    max_length: int,
    rank: int,
    world_size: int,
    shuffle: bool,
    seed: int,
) -> DataLoader:
    """A loader over this worker's shard; batches are tokenized and padded on the fly."""
    collate = make_collate(tokenizer, max_length)
    if not shuffle:
        # Evaluation: a plain strided shard, so no example is padded in twice and the summed
        # losses over workers cover every example exactly once.
        shard = _Examples(examples[rank::world_size])
        return DataLoader(shard, batch_size=batch_size, shuffle=False, collate_fn=collate,
                          generator=own_generator(seed))
    sampler = DistributedSampler(
        _Examples(examples), num_replicas=world_size, rank=rank, shuffle=True, seed=seed
    )
    return DataLoader(_Examples(examples), batch_size=batch_size, sampler=sampler,
                      collate_fn=collate, generator=own_generator(seed))
