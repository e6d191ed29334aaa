"""A sweep's step budget (``search.max_total_steps``): a number of optimizer steps, or a share
of what training every trial to its end would take (``"50%"`` of ``num_trials x max_steps``).

A share keeps its meaning when the sweep file's ``num_trials`` or ``max_steps`` change; a fixed
number would silently tighten as trials are added (a budget of 600 steps set for 10 trials
leaves a 40-trial sweep nothing to thaw with).
"""

from __future__ import annotations

import re

_SHARE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


def check_step_budget(budget: int | str | None) -> int | str | None:
    """The budget as written, if it is a positive whole number of steps or a share between 0%
    (excluded) and 100%; a ValueError otherwise (the sweep's error names the field and value)."""
    if budget is None:
        return None
    if isinstance(budget, bool) or not isinstance(budget, (int, str)):
        raise ValueError("a number of steps (1200) or a share of num_trials x max_steps ('50%')")
    if isinstance(budget, int):
        if budget <= 0:
            raise ValueError("a step budget must be above 0 steps")
        return budget
    match = _SHARE.match(budget)
    if match is None or not 0 < float(match.group(1)) <= 100:
        raise ValueError("a number of steps (1200) or a share above 0% and at most 100% of "
                         "num_trials x max_steps ('50%')")
    return budget.strip()


def step_budget(budget: int | str | None, num_trials: int, max_steps: int) -> int | None:
    """The budget in optimizer steps (None: no bound)."""
    if budget is None or isinstance(budget, int):
        return budget
    share = float(_SHARE.match(budget).group(1)) / 100  # type: ignore[union-attr]
    return max(1, int(share * num_trials * max_steps))
