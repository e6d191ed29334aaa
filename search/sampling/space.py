"""The search space: one typed parameter per hyperparameter, and its Optuna distribution.

In a sweep file each entry of ``space`` is one of::

    learning_rate: {type: float, low: 1.0e-5, high: 1.0e-2, log: true}
    lora_r:        {type: choice, values: [4, 8, 16]}
    lora_alpha:    {type: int, low: 8, high: 32, step: 8}
    weight_decay:  0.01            # a bare value is a constant
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from trainables.settings import Hyperparameters

if TYPE_CHECKING:  # Optuna is imported where a distribution is made: basin ls need not load it
    from optuna.distributions import BaseDistribution


class _Param(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class _Range(_Param):
    """Shared checks of a numeric range: a non-empty interval, positive when on a log scale."""

    @model_validator(mode="after")
    def _non_empty(self) -> _Range:
        if self.low >= self.high:
            raise ValueError(f"low must be below high (got low={self.low}, high={self.high})")
        if self.log and self.low <= 0:
            raise ValueError(f"low must be > 0 on a log scale (got low={self.low})")
        return self


class FloatParam(_Range):
    type: Literal["float"]
    low: float
    high: float
    log: bool = False


class IntParam(_Range):
    type: Literal["int"]
    low: int
    high: int
    log: bool = False
    step: int = Field(1, gt=0)

    @model_validator(mode="after")
    def _step_fits(self) -> IntParam:
        if self.log and self.step != 1:
            raise ValueError(f"step must be 1 on a log scale (got step={self.step})")
        return self


class ChoiceParam(_Param):
    type: Literal["choice"]
    values: list[Any] = Field(min_length=1)


class ConstantParam(_Param):
    type: Literal["constant"]
    value: Any


Param = Annotated[
    Union[FloatParam, IntParam, ChoiceParam, ConstantParam], Field(discriminator="type")
]


def as_param(raw: Any) -> Any:
    """Accept a bare value as a constant, so ``weight_decay: 0.01`` needs no wrapper."""
    if isinstance(raw, dict):
        return raw
    return {"type": "constant", "value": raw}


def param_values_to_check(param: BaseModel) -> list[Any]:
    """The concrete values a parameter can take at its edges, to validate against the trial."""
    if isinstance(param, (FloatParam, IntParam)):
        return [param.low, param.high]
    if isinstance(param, ChoiceParam):
        return list(param.values)
    return [param.value]


def check_against_trial(name: str, param: BaseModel) -> str | None:
    """A message if some value of ``param`` is not a valid ``Hyperparameters.<name>``."""
    if isinstance(param, FloatParam) and Hyperparameters.model_fields[name].annotation is int:
        # Its edges validate as whole numbers, but the draws between them would not.
        return (f"{name} is a whole number; a float range would draw fractions, use "
                f"type: int (got type: float, low={param.low:g}, high={param.high:g})")
    for value in param_values_to_check(param):
        try:
            Hyperparameters.model_validate({name: value})
        except ValidationError as error:
            reason = error.errors()[0]["msg"]
            return f"{reason} (got {value!r})"
    return None


def to_distribution(param: BaseModel) -> BaseDistribution | None:
    """The Optuna distribution of a parameter; None for a constant (it is not searched)."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    if isinstance(param, FloatParam):
        return FloatDistribution(param.low, param.high, log=param.log)
    if isinstance(param, IntParam):
        return IntDistribution(param.low, param.high, log=param.log, step=param.step)
    if isinstance(param, ChoiceParam):
        return CategoricalDistribution(param.values)
    return None


def split_space(
    space: dict[str, BaseModel],
) -> tuple[dict[str, BaseDistribution], dict[str, Any]]:
    """(Optuna distributions of the searched parameters, values of the constant ones)."""
    distributions: dict[str, BaseDistribution] = {}
    constants: dict[str, Any] = {}
    for name, param in space.items():
        distribution = to_distribution(param)
        if distribution is None:
            constants[name] = param.value
        else:
            distributions[name] = distribution
    return distributions, constants
