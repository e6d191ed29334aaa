"""One evaluation of a trial, as the driver reads it from the trial's report: what the stopping
rules judge (``search/stopping``), what a candidate checkpoint is chosen by
(``search/selection/candidates.py``) and what a trial's record keeps of each report
(``search/core/record.py``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from trainables.contract import (
    BASELINE_LOSS,
    STEP,
    TOTAL_STEPS,
    TRAIN_EVAL_LOSS,
    VAL_DISTINCT_PREDICTIONS,
    VAL_LOSS,
    VAL_LOSS_SE,
)

# The report's name of each field of an Evaluation read straight from it.
REPORTED_AS = {"step": STEP, "val_loss": VAL_LOSS, "val_loss_se": VAL_LOSS_SE,
               "train_eval_loss": TRAIN_EVAL_LOSS, "baseline_loss": BASELINE_LOSS,
               "total_steps": TOTAL_STEPS, "distinct_predictions": VAL_DISTINCT_PREDICTIONS}


def _number(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


@dataclass(frozen=True)
class Evaluation:
    """One evaluation of a trial. ``train_eval_loss`` is the loss on the fixed training sample
    in eval mode (measured like ``val_loss``); ``score`` is the objective oriented so that lower
    is better; ``baseline_loss`` is the validation loss of a model that learned nothing. A
    figure the report did not carry is NaN."""

    step: int
    val_loss: float
    train_eval_loss: float
    objective: float
    score: float
    baseline_loss: float = math.nan
    total_steps: int | None = None
    val_loss_se: float = math.nan
    # How many different outputs the model gave over the validation split (classification):
    # 1 is a model collapsed to one output, whatever its loss.
    distinct_predictions: float = math.nan

    @property
    def collapsed(self) -> bool:
        return self.distinct_predictions == 1

    @property
    def gap(self) -> float:
        return self.val_loss - self.train_eval_loss

    @classmethod
    def from_result(cls, result: dict, objective: str = VAL_LOSS,
                    mode: str = "min") -> Evaluation:
        """An evaluation from a trial's report (the metric names of ``trainables.contract``)."""
        value = _number(result.get(objective))
        total = result.get(TOTAL_STEPS)
        return cls(step=int(result[STEP]), val_loss=_number(result.get(VAL_LOSS)),
                   train_eval_loss=_number(result.get(TRAIN_EVAL_LOSS)), objective=value,
                   score=value if mode == "min" else -value,
                   baseline_loss=_number(result.get(BASELINE_LOSS)),
                   total_steps=int(total) if _number(total) == _number(total) else None,
                   val_loss_se=_number(result.get(VAL_LOSS_SE)),
                   distinct_predictions=_number(result.get(VAL_DISTINCT_PREDICTIONS)))


# What the driver reads of every report to build an Evaluation.
EVALUATION_INPUTS: tuple[str, ...] = tuple(REPORTED_AS[f.name] for f in fields(Evaluation)
                                           if f.name in REPORTED_AS)
