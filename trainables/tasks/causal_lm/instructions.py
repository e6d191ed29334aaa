"""The built-in instruction task: short questions with one right answer, for causal-LM sweeps.

Why it exists: the causal-LM sweep must run anywhere, offline, on 2 CPU cores, and it must be able
to overfit, like the classification demo (``trainables/tasks/classification/demo.py``). Each example
is one of six small skills whose answer is a word or two: adding two numbers, picking the larger of
two, reversing a short list, the day or month that comes next, the opposite of a word, counting the
words of a list. A fixed fraction of the *training and validation* answers is replaced by a wrong
answer of the same kind (``label_noise``). A model that learns the skills answers the rest; one that
memorises the wrong answers drives its training loss down while its validation loss climbs: the gap
basin stops on. The test split is kept clean, so it measures the skills.

Prompts and answers are a few tokens each, so a step of a 135M model stays cheap on a CPU.
Everything is drawn from ``random.Random(seed)``: the same settings give the same task on every
machine and every Ray worker.
"""

from __future__ import annotations

import random
from typing import Callable

from trainables.tasks.classification.demo import noisy_splits

DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
OPPOSITES = {
    "hot": "cold", "big": "small", "fast": "slow", "up": "down", "light": "dark",
    "happy": "sad", "old": "new", "open": "closed", "early": "late", "full": "empty",
    "strong": "weak", "wet": "dry", "high": "low", "hard": "soft", "loud": "quiet",
    "rich": "poor", "thick": "thin", "near": "far", "first": "last", "win": "lose",
}
WORDS = ["cat", "sun", "tree", "book", "rain", "milk", "door", "bird", "lamp", "fish",
         "rock", "star", "leaf", "boat", "cake", "ring"]

Skill = Callable[[random.Random], tuple[str, str]]


def _add(rng: random.Random) -> tuple[str, str]:
    a, b = rng.randint(10, 49), rng.randint(10, 49)
    return f"What is {a} + {b}?", str(a + b)


def _larger(rng: random.Random) -> tuple[str, str]:
    a, b = rng.sample(range(10, 100), 2)
    return f"Which is larger: {a} or {b}?", str(max(a, b))


def _reverse(rng: random.Random) -> tuple[str, str]:
    words = rng.sample(WORDS, 3)
    return f"Reverse the list: {', '.join(words)}", ", ".join(reversed(words))


def _next(rng: random.Random) -> tuple[str, str]:
    cycle, kind = (DAYS, "day") if rng.random() < 0.5 else (MONTHS, "month")
    index = rng.randrange(len(cycle))
    return f"Which {kind} comes after {cycle[index]}?", cycle[(index + 1) % len(cycle)]


def _opposite(rng: random.Random) -> tuple[str, str]:
    word = rng.choice(sorted(OPPOSITES))
    return f"What is the opposite of {word}?", OPPOSITES[word]


def _count(rng: random.Random) -> tuple[str, str]:
    words = [rng.choice(WORDS) for _ in range(rng.randint(2, 6))]
    return f"How many words: {' '.join(words)}", str(len(words))


SKILLS: tuple[Skill, ...] = (_add, _larger, _reverse, _next, _opposite, _count)


def wrong_answer(skill: Skill, right: str, rng: random.Random) -> str:
    """Another answer of the same kind: the answer to a different question of that skill."""
    for _ in range(100):
        _, other = skill(rng)
        if other != right:
            return other
    return right + "!"


def make_instruction_splits(train_size: int, validation_size: int, test_size: int,
                            label_noise: float, seed: int) -> dict[str, list[tuple[str, str]]]:
    """Deterministic train/validation/test splits of (prompt, response) pairs.

    ``label_noise`` is the probability that a train or validation response is wrong.
    """
    def draw(rng: random.Random) -> tuple[str, str, Callable]:
        skill = rng.choice(SKILLS)
        prompt, response = skill(rng)
        return prompt, response, lambda right, rng: wrong_answer(skill, right, rng)

    sizes = {"train": train_size, "validation": validation_size, "test": test_size}
    return noisy_splits(sizes, draw, label_noise, seed)
