"""The sweep file: a validated ``SweepSpec``, and every mistake in it reported before Ray starts.

A mistake is reported as one line naming the file, the field path and the bad value, e.g.::

    sweeps/x.yaml: space.learning_rate: low must be > 0 on a log scale (got low=0.0)
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, Field, ValidationError, field_validator, model_validator

from search.core.errors import SpecError
from search.core.uris import OBJECT_STORE_SCHEMES, is_object_store, without_query
from search.sampling.space import Param, as_param, check_against_trial
from search.selection import CRITERIA, DEFAULT_CRITERION, Selection
from search.selection.keep import KeepSpec
from search.spec.messages import format_error, where
from search.spec.overrides import apply_override, switch_off_disabled_blocks
from search.spec.removed import refuse_removed
from search.spec.reproduce import Reproduce
from search.spec.step_budget import check_step_budget
from search.spec.storage_url import check_database_url
from search.spec.yaml_reading import read_spec_file
from search.stopping import StoppingSpec
from search.trackers import TrackingSpec
from trainables.check.settings import CheckSettings
from trainables.contract import VAL_LOSS
from trainables.settings import (
    HYPERPARAMETER_NAMES,
    MAX_SEED,
    DataSettings,
    DeepSpeedSettings,
    GenerationSettings,
    ModelSettings,
    RetentionSettings,
    Strict,
    TrainingSettings,
    TrialSettings,
)
from trainables.tasks import declared, objective_metric, objectives_of


class ObjectiveSpec(Strict):
    metric: Annotated[str, AfterValidator(objective_metric)] = VAL_LOSS
    mode: Literal["min", "max"] = "min"


class SearchSpec(Strict):
    sampler: Literal["tpe", "random"] = "tpe"
    num_trials: int = Field(8, gt=0)
    max_concurrent_trials: int | None = Field(None, gt=0)
    seed: int | None = Field(0, ge=0, le=MAX_SEED)
    storage: str | None = Field(
        None, description="Optuna RDB URL (e.g. postgresql://...); default: a journal file."
    )
    max_total_steps: int | str | None = Field(
        None, description="scheduler freeze: the sweep's step budget, in optimizer steps (1200) "
        "or as a share of num_trials x max_steps ('50%'); frozen trials are thawed only while "
        "it lasts (default: no bound).")

    @field_validator("storage")
    @classmethod
    def _database_url(cls, url: str | None) -> str | None:
        return check_database_url(url) if url is not None else None

    @field_validator("max_total_steps", mode="before")
    @classmethod
    def _step_budget(cls, budget: Any) -> Any:
        return check_step_budget(budget)


class SchedulerSpec(Strict):
    """How trials share the budget: ASHA (a trial below its rung's cut-off stops), freeze (it
    is paused with its checkpoint and may be thawed later: search/tune/freezing.py), or FIFO
    (every trial trains until a stopping rule or its budget ends it)."""

    type: Literal["asha", "freeze", "fifo"] = "asha"
    grace_period: int = Field(20, gt=0, description="Steps before the first rung.")
    reduction_factor: float = Field(2.0, gt=1, description="The best 1/factor of a rung go on.")
    brackets: int = Field(1, gt=0, description="ASHA's brackets.")
    thaw: Literal["rank", "undecided"] = Field(
        "rank", description="freeze: which frozen trial is thawed first: the best at its rung "
        "(rank), or those still within noise of their baseline when frozen (undecided).")


class ResourcesSpec(Strict):
    workers: int = Field(1, ge=1, le=1024)
    gpus_per_worker: float = Field(0, ge=0, le=64)
    cpus_per_worker: float = Field(1, gt=0, le=1024)
    placement_strategy: Literal["PACK", "SPREAD", "STRICT_PACK", "STRICT_SPREAD"] = "PACK"
    cluster_autoscales: bool = Field(
        False, description="Nodes may join later: do not refuse trials today's nodes can't hold.")
    max_failures: int = Field(
        1, ge=0, le=100, description="Restarts of a trial that met a fault of the machine (its "
        "worker or node died, a full disk, an I/O error), from its latest checkpoint. A trial "
        "that raises for its configuration or diverges is not restarted.")
    warm_workers: bool = Field(
        True, description="A one-worker trial slot keeps its process, imports, data and base "
        "model weights for the next trial (Ray Tune's reuse_actors); false: a fresh process per "
        "trial. Multi-worker trials always start fresh.")


class SweepSpec(Strict):
    """A whole sweep: what to train, what to search, how to schedule and prune, where to write."""

    # The run directory is named after the sweep; 100 characters leave room for the date.
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)
    model: ModelSettings = ModelSettings()
    data: DataSettings = DataSettings()
    training: TrainingSettings = TrainingSettings()
    deepspeed: DeepSpeedSettings = DeepSpeedSettings()
    generation: GenerationSettings = GenerationSettings()
    retention: RetentionSettings = RetentionSettings()
    space: dict[str, Param] = Field(min_length=1)
    objective: ObjectiveSpec = ObjectiveSpec()
    search: SearchSpec = SearchSpec()
    scheduler: SchedulerSpec = SchedulerSpec()
    stopping: StoppingSpec = StoppingSpec()
    selection: Selection = Field(default_factory=lambda: {"criterion": DEFAULT_CRITERION},
                                 validate_default=True)
    resources: ResourcesSpec = ResourcesSpec()
    tracking: TrackingSpec = TrackingSpec()
    check: CheckSettings | None = None  # basin check at the sweep's end (search/lifecycle/check.py)
    keep: KeepSpec = KeepSpec()  # which candidates keep their weights (search/selection/keep.py)
    # A recipe's (best.yaml, config.yaml) record of its figure, which basin train checks.
    reproduce: Reproduce | None = None
    output_dir: str = "runs"

    @field_validator("selection", mode="before")
    @classmethod
    def _criterion_by_name(cls, selection: Any) -> Any:
        """``selection: one-se`` is short for ``selection: {criterion: one-se}``; an unknown
        criterion is named with the ones there are."""
        if isinstance(selection, str):
            selection = {"criterion": selection}
        if isinstance(selection, dict) and selection.get("criterion", DEFAULT_CRITERION) \
                not in CRITERIA:
            raise ValueError(f"unknown criterion (choose from {list(CRITERIA)}) "
                             f"(got {selection['criterion']!r})")
        if isinstance(selection, dict) and "criterion" not in selection:
            selection = {**selection, "criterion": DEFAULT_CRITERION}
        return selection

    @field_validator("space", mode="before")
    @classmethod
    def _bare_values_are_constants(cls, space: Any) -> Any:
        if not isinstance(space, dict):
            return space
        unknown = [name for name in space if name not in HYPERPARAMETER_NAMES]
        if unknown:
            raise ValueError(
                f"unknown hyperparameter {unknown[0]!r} (choose from {list(HYPERPARAMETER_NAMES)})"
            )
        return {name: as_param(raw) for name, raw in space.items()}

    @field_validator("output_dir")
    @classmethod
    def _path_or_object_store(cls, output_dir: str) -> str:
        scheme, sep, rest = output_dir.partition("://")
        if sep and not is_object_store(output_dir):
            raise ValueError(f"{scheme}:// is not a store basin writes to; use a path every node "
                             f"sees (a shared filesystem) or an object store "
                             f"({', '.join(s + '://' for s in OBJECT_STORE_SCHEMES)}) "
                             f"(got {without_query(output_dir)!r})")
        if sep and not rest.partition("?")[0].strip("/"):
            raise ValueError(f"name a bucket (got {without_query(output_dir)!r})")
        return output_dir

    @model_validator(mode="after")
    def _consistent(self) -> SweepSpec:
        self._objective_of_the_task()
        if is_object_store(self.output_dir) and not self.search.storage:
            # The default study storage, Optuna's journal file, appends to a file in the run
            # directory; object stores cannot append.
            raise ValueError(
                "output_dir in an object store needs search.storage, a database URL for the "
                "Optuna study (e.g. postgresql://user:password@host:5432/basin) "
                f"(got output_dir={without_query(self.output_dir)!r}, no search.storage)")
        if self.scheduler.type in ("asha", "freeze"):
            if self.training.max_steps is None:
                raise ValueError(f"scheduler.type {self.scheduler.type} needs training.max_steps "
                                 f"(not epochs)")
            if self.scheduler.grace_period > self.training.max_steps:
                raise ValueError(
                    f"scheduler.grace_period must not exceed training.max_steps "
                    f"(got {self.scheduler.grace_period} > {self.training.max_steps})")
        if self.selection.criterion == "retentive" and not self.retention.enabled:
            raise ValueError("selection.criterion retentive chooses by the drift, which only "
                             "retention.enabled: true measures (got retention.enabled: false)")
        if self.check and not self.keep.keeps_everything and self.keep.best < self.check.top:
            raise ValueError(f"keep.best must be at least check.top: basin check measures the "
                             f"best candidates, whose weights the keep policy must not delete "
                             f"(got {self.keep.best} < {self.check.top})")
        return self

    def _objective_of_the_task(self) -> None:
        try:
            task = declared(self.model.task)
        except ValueError as error:
            raise ValueError(f"model.task: {error}") from None
        metric = self.objective.metric
        checked = {"objective.metric": metric}
        if self.reproduce is not None:
            checked["reproduce.metric"] = self.reproduce.metric
        for field, named in checked.items():
            try:
                objectives_of(task, named)
            except ValueError as error:
                raise ValueError(f"{field}: {error}") from None
        if metric in task.generated and not self.generation.exact_match_samples:
            raise ValueError(f"objective.metric {metric!r} needs generation.exact_match_samples "
                             f"> 0 (got 0)")


def trial_settings(spec: SweepSpec) -> TrialSettings:
    """The fixed part of every trial of this sweep, as the trial side receives it."""
    return TrialSettings(
        **{block: getattr(spec, block)
           for block in ("model", "data", "training", "deepspeed", "generation", "retention")},
        objective_metric=spec.objective.metric,
        objective_mode=spec.objective.mode,
        workers=spec.resources.workers,
        gpus_per_worker=spec.resources.gpus_per_worker,
        cpus_per_worker=spec.resources.cpus_per_worker,
        placement_strategy=spec.resources.placement_strategy,
    )


# Keys of earlier sweep files, and what replaced them: a message, not a translation.
# Compatibility (sweep files of basin 0.1): remove in basin 0.3.
def _resolve_paths(spec: SweepSpec) -> SweepSpec:
    """Make file paths absolute, so a best.yaml written elsewhere still finds them."""
    data = spec.data
    for field in ("train_file", "validation_file", "test_file"):
        value = getattr(data, field)
        if value is not None:
            setattr(data, field, str(Path(value).expanduser().resolve()))
    if spec.model.name.startswith((".", "/", "~")):
        spec.model.name = str(Path(spec.model.name).expanduser().resolve())
    if not is_object_store(spec.output_dir):
        spec.output_dir = str(Path(spec.output_dir).expanduser().resolve())
    return spec


def validate_spec(raw: Any, source: str = "<sweep>", overrides: list[str] | None = None
                  ) -> SweepSpec:
    """Validate a raw sweep dict: every field and every value of the space (what the file
    points at, data and model, is checked by ``search.lifecycle.preflight``). A mistake in a
    field that one of ``overrides`` (``--set`` assignments) set is blamed on that ``--set``."""
    if not isinstance(raw, dict):
        kind = type(raw).__name__
        raise SpecError([f"{source}: expected a mapping of sweep settings (got {kind})"])
    raw = refuse_removed(raw, source, overrides)
    try:
        spec = SweepSpec.model_validate(switch_off_disabled_blocks(raw, source, overrides))
    except ValidationError as error:
        raise SpecError([format_error(source, e, SweepSpec, CRITERIA, overrides)
                         for e in error.errors()]) from None
    problems = [
        f"{where(source, f'space.{name}', overrides)}: {message}"
        for name, param in spec.space.items()
        if (message := check_against_trial(name, param))
    ]
    if problems:
        raise SpecError(problems)
    return _resolve_paths(spec)


def load_spec(path: str | Path, overrides: list[str] | None = None) -> SweepSpec:
    """Read, override and validate a sweep file; raises ``SpecError`` with every problem."""
    raw = read_spec_file(path)
    for assignment in overrides or []:
        if isinstance(raw, dict):
            apply_override(raw, assignment)
    return validate_spec(raw, str(path), overrides)


def dump_spec(spec: SweepSpec) -> str:
    """The sweep as YAML, every field explicit."""
    return yaml.safe_dump(spec.model_dump(mode="json"), sort_keys=False)
