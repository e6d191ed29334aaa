"""What the searcher's own model thinks of configurations: TPE's rating of each as good.

The freezing scheduler's ``model`` thaw order (RESULTS.md, "Issue 30, third round: thaw by the
searcher's model") asks which frozen trial to resume first. A frozen trial's curve cannot tell a
slow starter from a trial that learns nothing (both sit at the label prior at the first rung); its
configuration can, once a neighbour of it has trained to the end. TPE already models that: it
splits the finished trials into good (the best ``gamma(n)``) and the rest and fits a Parzen
estimator to each, l(x) and g(x); a configuration it rates likely good has a large
log l(x) - log g(x), the quantity TPE maximizes when it proposes the next configuration.

The estimators are the sampler's own (``TPESampler._build_parzen_estimator``: its bandwidths,
priors and weights), so the scheduler asks the very model that proposed the configurations.
That is a private method of Optuna's (stable since Optuna 3, present in 4.3-5.1); if it is
missing, or the sampler is not TPE, the rating is None and the scheduler falls back to
ranking by score.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState


def tpe_gamma(finished: int) -> int:
    """How many finished trials TPE counts as good (its default ``gamma``: 10%, at most 25)."""
    return min(math.ceil(0.1 * finished), 25)


def split_good(study: optuna.Study, finished: Sequence[FrozenTrial], good: int
               ) -> tuple[list[FrozenTrial], list[FrozenTrial]]:
    """The ``good`` best finished trials and the rest, ordered as TPE orders them: completed
    trials by their value, then pruned ones by the deepest step reached and their value there."""
    sign = 1.0 if study.direction == StudyDirection.MINIMIZE else -1.0

    def key(trial: FrozenTrial) -> tuple[int, float, float]:
        if trial.state == TrialState.COMPLETE and trial.value is not None:
            return (0, 0.0, sign * trial.value)
        if trial.intermediate_values:
            step, value = max(trial.intermediate_values.items())
            return (1, -step, math.inf if math.isnan(value) else sign * value)
        return (2, 0.0, 0.0)

    ordered = sorted(finished, key=key)
    return ordered[:good], ordered[good:]


def tpe_rating(study: optuna.Study, distributions: Mapping[str, BaseDistribution],
               configs: Sequence[Mapping[str, Any]]) -> list[float] | None:
    """TPE's log l(x) - log g(x) for each configuration (larger: rated more likely good), from
    the study's finished trials; None where TPE has no model to ask (not a TPE sampler, a
    multi-objective study, fewer than two finished trials, or a configuration missing a
    searched parameter)."""
    sampler = study.sampler
    build = getattr(sampler, "_build_parzen_estimator", None)
    if (not isinstance(sampler, optuna.samplers.TPESampler) or build is None or not configs
            or len(study.directions) > 1):
        return None
    space = {name: d for name, d in distributions.items() if not d.single()}
    if not space or any(not space.keys() <= config.keys() for config in configs):
        return None
    finished = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
    if len(finished) < 2:
        return None
    gamma = getattr(sampler, "_gamma", None) or tpe_gamma
    good, rest = split_good(study, finished, max(1, min(gamma(len(finished)),
                                                          len(finished) - 1)))
    samples = {name: np.asarray([d.to_internal_repr(config[name]) for config in configs])
               for name, d in space.items()}
    rating = (build(study, space, good, handle_below=True).log_pdf(samples)
              - build(study, space, rest, handle_below=False).log_pdf(samples))
    return [float(value) for value in rating]
