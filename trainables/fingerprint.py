"""What a trial's numbers may depend on, written down: its recipe's hash and the library versions.

A trial's figures depend only on its recipe: the configuration, the seed, the data, the
schedule, the code and its libraries (never on the worker, the order of trials, concurrency,
pausing or resuming: ``tests/integration/test_same_recipe.py``). ``recipe_hash`` condenses the
first four into one string; a best.yaml and an export's config.yaml record it with the
versions, and ``basin train`` compares both with its own before it says whether it reproduced
the sweep's figure. No torch here: the driver imports it.
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path
from typing import Any

from trainables.settings import Hyperparameters, TrialSettings

# The libraries whose versions can change what a trial computes (and the driver's, for the record).
PACKAGES = ("basin", "torch", "transformers", "peft", "deepspeed", "ray", "optuna", "wandb")
# Settings that change no figure up to the step a recipe stops at: where it stops (a best.yaml
# stops at the chosen step of the same schedule), whether the test split is scored (after the
# step's figures, on weights put back as they were), where the workers are placed. Workers,
# devices and threads stay in: they change how sums are split, so the last digits.
NOT_IN_THE_RECIPE = {"training": ("stop_at_step",), "": ("evaluate_test", "placement_strategy")}
DATA_FILES = ("train_file", "validation_file", "test_file")


def library_versions() -> dict[str, str]:
    """The installed version of each library in ``PACKAGES`` ("not installed" where absent)."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def file_digest(path: str) -> str:
    """``sha256:<hex>`` of a data file's bytes ("missing" if it cannot be read)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return "missing"
    return f"sha256:{digest.hexdigest()}"


def recipe_fields(settings: TrialSettings, hp: Hyperparameters) -> dict[str, Any]:
    """The recipe as plain data: the hyperparameters (defaults filled in), and every setting
    that can change a figure. Data files count by their content, not by where they lie."""
    fixed = settings.model_dump(mode="json")
    for block, names in NOT_IN_THE_RECIPE.items():
        for name in names:
            (fixed[block] if block else fixed).pop(name, None)
    data = fixed["data"]
    for name in DATA_FILES:
        if data.get(name):
            data[name] = file_digest(str(Path(data[name]).expanduser()))
    return {"hyperparameters": hp.model_dump(mode="json"), "settings": fixed}


def recipe_hash(settings: TrialSettings, hp: Hyperparameters) -> str:
    """The first 16 hex digits of the sha256 of ``recipe_fields``: equal for two trials that
    must compute the same figures with the same code and libraries."""
    text = json.dumps(recipe_fields(settings, hp), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
