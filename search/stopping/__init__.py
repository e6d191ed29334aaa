"""Stopping rules: how long each trial trains. (What is handed on is ``search/selection``.)

The sweep file's ``stopping`` block configures them, one entry per rule; ``null`` or
``enabled: false`` switches a rule off. They run in the order below, the rules that exclude a
trial first, and the first rule that decides ends the trial. A new rule is one new file here
(its settings model with a ``reason`` method, see ``base.py``) and one field below.
"""

from __future__ import annotations

from typing import get_args

from pydantic import Field

from search.stopping.base import StopRule
from search.stopping.early_stopping import EarlyStopping
from search.stopping.gap import GapRule, gap_within
from search.stopping.not_learning import NotLearning
from trainables.settings import Strict


class StoppingSpec(Strict):
    """The sweep's stopping rules (ASHA, in ``scheduler``, stops trials beside them)."""

    not_learning: NotLearning | None = Field(default_factory=NotLearning)
    gap: GapRule | None = Field(default_factory=GapRule)
    early_stopping: EarlyStopping | None = Field(
        default_factory=lambda: EarlyStopping(enabled=False))

    @classmethod
    def off(cls) -> StoppingSpec:
        """Every rule switched off, whichever rules there are (a recipe that re-trains a
        checkpoint, a method that trains every trial to its budget)."""
        return cls(**{name: None for name in cls.model_fields})

    def rules(self) -> list[StopRule]:
        """The rules that are switched on, in the order they run."""
        rules = [getattr(self, name) for name in type(self).model_fields]
        return [rule for rule in rules if rule is not None and rule.enabled]


def rule_types() -> dict[str, type[StopRule]]:
    """Every stopping rule there is, by its name in the sweep file (the fields above: each
    ``Rule | None``)."""
    return {name: next(t for t in get_args(field.annotation) if t is not type(None))
            for name, field in StoppingSpec.model_fields.items()}


__all__ = ["EarlyStopping", "GapRule", "NotLearning", "StopRule", "StoppingSpec",
           "gap_within", "rule_types"]
