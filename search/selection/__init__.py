"""Selection: which checkpoint a sweep hands on. (How long trials train is ``search/stopping``.)

One function, ``choose`` (``choice.py``), serves ``basin best``, ``best.yaml``, ``basin export``,
``basin confirm``, ``basin status`` and the plots. The sweep file's ``selection`` block names
the criterion; a new criterion is one new file here (a ``Criterion`` with ``rank`` and ``why``)
added to ``Selection`` below. Once ``basin confirm`` has ranked the top candidates by their mean
over new seeds, its winner is the choice.
"""

from __future__ import annotations

from typing import Annotated, Union, get_args

from pydantic import Field

from search.selection.last_step import LastStepCriterion
from search.selection.max_gap import MaxGapCriterion
from search.selection.objective import ObjectiveCriterion
from search.selection.one_se import OneStandardErrorCriterion
from search.selection.retentive import RetentiveCriterion
from search.selection.robust import RobustCriterion

Selection = Annotated[
    Union[ObjectiveCriterion, OneStandardErrorCriterion, MaxGapCriterion, LastStepCriterion,
          RobustCriterion, RetentiveCriterion],
    Field(discriminator="criterion"),
]
# Every criterion's name, read off the union so that a new criterion is added in one place.
CRITERIA: tuple[str, ...] = tuple(
    get_args(kind.model_fields["criterion"].annotation)[0]
    for kind in get_args(get_args(Selection)[0]))
DEFAULT_CRITERION = "objective"

__all__ = ["CRITERIA", "DEFAULT_CRITERION", "LastStepCriterion", "MaxGapCriterion",
           "ObjectiveCriterion", "OneStandardErrorCriterion", "RetentiveCriterion",
           "RobustCriterion", "Selection"]
