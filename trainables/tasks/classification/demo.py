"""The built-in demo task: short movie-review-like sentences with a sentiment label.

Why it exists: the default sweep must run anywhere, offline, in minutes, and it must be able to
overfit. Each sentence says something about a film with one or two opinion words, optionally
negated ("the plot was not dull"); the clean label is the sign of the summed opinion. A fixed
fraction of the *training and validation* labels is then flipped at random. A model that learns
the rule reaches roughly ``1 - label_noise`` accuracy; a model that memorises the flipped labels
drives its training loss towards zero while its validation loss climbs, which is exactly the
gap basin prunes on. The test split is kept clean so that it measures the rule, not the noise.

Everything is drawn from ``random.Random(seed)``: the same settings give the same task on every
machine and every Ray worker.
"""

from __future__ import annotations

import random
from typing import Callable

POSITIVE = [
    "great", "wonderful", "moving", "brilliant", "charming", "clever", "gripping", "delightful",
    "beautiful", "funny", "fresh", "superb", "touching", "smart", "lovely", "tender",
]
NEGATIVE = [
    "dull", "awful", "boring", "clumsy", "tedious", "shallow", "messy", "painful",
    "bland", "stale", "silly", "weak", "lifeless", "forced", "tiresome", "cheap",
]
SUBJECTS = [
    "the plot", "the acting", "the script", "the ending", "the music", "the cast", "the story",
    "the film", "the direction", "the dialogue", "the pacing", "the humour", "the lead",
]
LINKS = ["was", "felt", "seemed", "turned out", "is", "remains"]
INTENSIFIERS = ["", "", "", "really ", "quite ", "truly ", "rather ", "very "]
OPENERS = ["", "", "honestly, ", "overall, ", "in the end, ", "to me, ", "i think "]


def _clause(rng: random.Random) -> tuple[str, int]:
    """One '<subject> <link> [not] <adjective>' clause and its sentiment sign (+1 or -1)."""
    positive = rng.random() < 0.5
    adjective = rng.choice(POSITIVE if positive else NEGATIVE)
    negated = rng.random() < 0.25
    sign = (1 if positive else -1) * (-1 if negated else 1)
    words = f"{rng.choice(SUBJECTS)} {rng.choice(LINKS)} {'not ' if negated else ''}"
    return words + rng.choice(INTENSIFIERS) + adjective, sign


def _sentence(rng: random.Random) -> tuple[str, int]:
    """A sentence of one or two clauses; its clean label is 1 when the opinion is positive."""
    text, score = _clause(rng)
    if rng.random() < 0.4:
        second, second_score = _clause(rng)
        # The second clause after "but" carries the verdict, as in real reviews.
        if rng.random() < 0.5:
            text, score = f"{text}, but {second}", second_score
        else:
            text, score = f"{text} and {second}", score + second_score
            if score == 0:
                score = second_score
    return rng.choice(OPENERS) + text, int(score > 0)


def noisy_splits(sizes: dict[str, int], draw: Callable[[random.Random], tuple], noise: float,
                 seed: int) -> dict[str, list[tuple]]:
    """Deterministic splits of ``draw(rng)`` examples (x, y, corrupt): in every split but
    ``test``, y is replaced by ``corrupt(y, rng)`` with probability ``noise``. Both built-in
    tasks (this one and ``trainables/tasks/causal_lm/instructions.py``) draw their splits this
    way."""
    rng = random.Random(seed)
    splits: dict[str, list[tuple]] = {}
    for name, size in sizes.items():
        examples = []
        for _ in range(size):
            x, y, corrupt = draw(rng)
            if name != "test" and rng.random() < noise:
                y = corrupt(y, rng)
            examples.append((x, y))
        splits[name] = examples
    return splits


def make_demo_splits(
    train_size: int, validation_size: int, test_size: int, label_noise: float, seed: int
) -> dict[str, list[tuple[str, int]]]:
    """Deterministic train/validation/test splits of (text, label) pairs.

    ``label_noise`` is the probability that a train or validation label is flipped.
    """
    sizes = {"train": train_size, "validation": validation_size, "test": test_size}
    return noisy_splits(sizes, lambda rng: (*_sentence(rng), _flipped), label_noise, seed)


def _flipped(label: int, rng: random.Random) -> int:
    return 1 - label
