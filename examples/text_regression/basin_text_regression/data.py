"""Generated ratings: short opinions about a dish, each rated by how positive its words are,
and the batches a worker trains on.

A rating is the mean of the opinion words' scores (-1 to +1), so a model that reads the words
can learn it; ``label_noise`` adds Gaussian noise of that standard deviation to the training and
validation ratings (never the test split's), which a model can only memorise.
"""

from __future__ import annotations

import random
from typing import Any

import torch
from torch.utils.data import DataLoader, DistributedSampler

from trainables.evaluation import own_generator
from trainables.settings import DataSettings

WORDS = {"superb": 1.0, "delicious": 0.8, "tasty": 0.6, "decent": 0.2, "plain": -0.1,
         "bland": -0.4, "greasy": -0.6, "awful": -1.0}
DISHES = ["the soup", "the curry", "the bread", "the salad", "the pasta", "the dessert"]
Example = tuple[str, float]


def _example(rng: random.Random) -> Example:
    words = rng.sample(sorted(WORDS), rng.choice([1, 2]))
    clauses = [f"{rng.choice(DISHES)} was {word}" for word in words]
    return " and ".join(clauses), sum(WORDS[word] for word in words) / len(words)


def demo_splits(data: DataSettings) -> tuple[list[Example], list[Example], list[Example]]:
    """Train, validation and test ratings, the same for every worker and trial of a sweep."""
    rng = random.Random(data.demo.seed)
    sizes = (data.demo.train_size, data.demo.validation_size, data.demo.test_size)
    splits = [[_example(rng) for _ in range(size)] for size in sizes]
    noisy = [[(text, rating + rng.gauss(0.0, data.demo.label_noise)) for text, rating in split]
             for split in splits[:2]]
    return noisy[0], noisy[1], splits[2]


def make_loader(examples: list[Example], tokenizer: Any, batch_size: int, max_length: int,
                rank: int, world_size: int, shuffle: bool, seed: int) -> DataLoader:
    """This worker's shard in batches: tokenized texts and float ``labels``."""
    def collate(batch: list[Example]) -> dict[str, torch.Tensor]:
        texts, ratings = zip(*batch)
        encoded = tokenizer(list(texts), truncation=True, max_length=max_length, padding=True,
                            return_tensors="pt")
        return {**encoded, "labels": torch.tensor(ratings, dtype=torch.float32)}

    if not shuffle:  # evaluation: every example once over the workers
        return DataLoader(examples[rank::world_size], batch_size=batch_size, collate_fn=collate,
                          generator=own_generator(seed))
    sampler = DistributedSampler(examples, num_replicas=world_size, rank=rank, shuffle=True,
                                 seed=seed)
    return DataLoader(examples, batch_size=batch_size, sampler=sampler, collate_fn=collate,
                      generator=own_generator(seed))
