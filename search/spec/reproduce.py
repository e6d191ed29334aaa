"""A recipe's record of what it must reproduce: the ``reproduce`` block of a best.yaml or of an
export's config.yaml, and ``basin train``'s verdict on it.

The sweep wrote the figure its chosen checkpoint had (metric, value, step), the hash of the
recipe that trained it (``trainables/fingerprint.py``) and the libraries it ran with. ``basin
train`` re-trains the recipe and says whether it landed on that figure; where it did not, it
says what differs (the recipe was edited, other library versions) so an audit knows where to
look.
"""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import AfterValidator, Field

from trainables.settings import Strict
from trainables.tasks import objective_metric

# How far a re-trained figure may lie from the recorded one and still count as reproduced, by
# the precision the recipe trains in. fp32 on a CPU reproduces bit for bit (the same recipe,
# the same figures: tests/integration/test_same_recipe.py); 1e-4 leaves room for another
# machine's kernels and thread count. bf16 and fp16 kernels on GPUs are not deterministic
# (atomic adds in their reductions); not yet measured, a loose bound.
TOLERANCE = {"fp32": 1e-4, "bf16": 1e-2, "fp16": 1e-2}


class Reproduce(Strict):
    """What the sweep measured at the checkpoint this recipe re-trains."""

    step: int = Field(gt=0, description="The evaluation step the figure is from.")
    metric: Annotated[str, AfterValidator(objective_metric)] = Field(
        description="The reported figure, e.g. val_loss.")
    value: float = Field(description="Its value at that step in the sweep.")
    recipe_hash: str | None = Field(None, description="trainables/fingerprint.py's hash of the "
                                                      "recipe that trained it.")
    versions: dict[str, str] = Field(default_factory=dict,
                                     description="The libraries the sweep ran with.")



def differences(recorded: dict[str, str], now: dict[str, str]) -> list[str]:
    """``name recorded -> now`` for each library whose version changed since the sweep."""
    return [f"{name} {recorded[name]} -> {now.get(name, 'not installed')}"
            for name in sorted(recorded) if recorded[name] != now.get(name, "not installed")]


def verdict(reproduce: Reproduce, reports: dict[int, dict], recipe_hash: str,
            versions: dict[str, str], precision: str) -> tuple[bool, str]:
    """Whether the re-trained ``reports`` (by step) hold the recorded figure, and the line that
    says so: both figures, and what differs when they do not agree."""
    recorded = f"the sweep recorded {reproduce.value:.6f}"
    report = reports.get(reproduce.step)
    value = None if report is None else report.get(reproduce.metric)
    if value is None or not math.isfinite(value):
        got = "no evaluation" if report is None else f"no finite {reproduce.metric}"
        return False, (f"warning: not reproduced: {got} at step {reproduce.step} to compare "
                       f"({recorded})")
    tolerance = TOLERANCE.get(precision, TOLERANCE["bf16"])
    difference = value - reproduce.value
    why = []
    if reproduce.recipe_hash and reproduce.recipe_hash != recipe_hash:
        why.append(f"the recipe differs from the sweep's (hash {recipe_hash}, recorded "
                   f"{reproduce.recipe_hash}): a setting or the data changed")
    changed = differences(reproduce.versions, versions)
    if changed:
        why.append("other library versions: " + ", ".join(changed))
    if abs(difference) <= tolerance:
        return True, (f"reproduced {reproduce.metric} {value:.6f} at step {reproduce.step} "
                      f"({recorded}; difference {difference:+.1e})"
                      + "".join(f"; though {reason}" for reason in why))
    return False, (f"warning: not reproduced: {reproduce.metric} {value:.6f} at step "
                   f"{reproduce.step}, {recorded} (difference {difference:+.6f}, more than the "
                   f"{tolerance:g} allowed in {precision})"
                   + ("; " + "; ".join(why) if why else "; same recipe and versions"))
