"""A frozen trial's learning-curve forecast: the best score it may still reach by the end of
its budget, with an uncertainty, from the curve it reported before it was frozen.

The freezing scheduler's ``forecast`` thaw order asks, for each frozen trial, whether it can
still beat the best checkpoint of the sweep so far; only those that can are thawed, the most
promising first (issue 30: "thaw those whose forecast, with its uncertainty, can still beat the
current k-th best"). The model is a line in the logarithm of the step, fitted by weighted least
squares to the scores reported so far (each weighted by its standard error): the shape most
fine-tuning curves take between their first evaluations and their minimum, and the only one
two or three points can pin down. A learned prior (LC-PFN) was the issue's other suggestion; its
package downloads its weights at run time, which basin may not do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# How many standard errors below its forecast a trial may still end: the optimistic bound
# that decides whether it can beat the sweep's best.
FORECAST_Z = 2.0


@dataclass(frozen=True)
class Forecast:
    """The best score (lower is better) a trial is forecast to reach by ``max_t`` and the
    standard error of that forecast; ``optimistic`` is the bound a thaw is decided on."""

    best: float
    se: float

    @property
    def optimistic(self) -> float:
        return self.best - FORECAST_Z * self.se


def forecast_best(curve: Sequence[Sequence[float]], max_t: int) -> Forecast:
    """The forecast of a curve's best score by step ``max_t``.

    ``curve``: the trial's reports so far as (step, score, standard error of the score), lower
    scores better. With one point the forecast is that point with an unbounded error (nothing
    says where the curve goes); with more, the fitted line's value at ``max_t`` (or the best
    point so far, when the line rises), its error from the fit's covariance, widened by the
    scatter of the points around the line when that exceeds their standard errors.
    """
    points = [(s, v, e) for s, v, e in curve
              if all(isinstance(x, (int, float)) and math.isfinite(x) for x in (s, v, e)) and s > 0]
    if not points:
        return Forecast(math.inf, 0.0)
    best_so_far = min(v for _, v, _ in points)
    if len(points) < 2 or max_t <= max(s for s, _, _ in points):
        return Forecast(best_so_far, math.inf if len(points) < 2 else 0.0)
    steps = np.log([s for s, _, _ in points])
    scores = np.array([v for _, v, _ in points])
    # A zero standard error (a report without one) would weigh a point infinitely.
    floor = max(1e-6, float(np.median([e for _, _, e in points])) * 0.1)
    errors = np.maximum([e for _, _, e in points], floor)
    design = np.column_stack([np.ones_like(steps), steps])
    weights = 1.0 / errors**2
    covariance = np.linalg.inv(design.T @ (design * weights[:, None]))
    coefficients = covariance @ (design.T @ (weights * scores))
    if len(points) > 2:
        residual = scores - design @ coefficients
        scatter = float(weights @ residual**2) / (len(points) - 2)
        covariance = covariance * max(1.0, scatter)
    at_end = np.array([1.0, math.log(max_t)])
    value = float(at_end @ coefficients)
    se = math.sqrt(max(0.0, float(at_end @ covariance @ at_end)))
    if value >= best_so_far:  # the curve turns or flattens: its best is behind it
        return Forecast(best_so_far, se)
    return Forecast(value, se)
