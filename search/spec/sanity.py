"""Settings that are valid one by one but cannot do what they are there for together (a stop
rule whose grace outlasts the trial, a training sample larger than the training split, a
validation split too small to choose by), and the split sizes they are judged against.

These are warnings, printed by ``basin validate`` and at the start of ``basin run``, each with
its numbers: the sweep still runs, as written.
"""

from __future__ import annotations

from pathlib import Path

from search.spec.model import SweepSpec
from trainables.data_files import DataFileError, assemble_splits, read_rows

# Fewer validation rows than this and the loss a sweep chooses by is mostly noise: a standard
# error of ~0.1 nats on a two-class loss around 0.5.
MIN_VALIDATION_ROWS = 30


def split_sizes(spec: SweepSpec) -> dict[str, int] | None:
    """Rows of the train, validation and test splits as a trial will see them (None: a hub
    dataset, or files that cannot be read; ``basin validate`` says why)."""
    data = spec.data
    if data.source == "demo":
        return {"train": data.demo.train_size, "validation": data.demo.validation_size,
                "test": data.demo.test_size}
    if data.source != "files":
        return None
    try:
        train, validation, test = assemble_splits(
            data, lambda path: [row for _, row in read_rows(Path(path))[1]], dict,
            spec.training.seed)
    except (DataFileError, OSError):
        return None
    return {"train": len(train), "validation": len(validation), "test": len(test)}


def describe_splits(sizes: dict[str, int] | None) -> str | None:
    """``data: 192 train / 48 validation / no test rows``, or None when unknown."""
    if sizes is None:
        return None
    test = f"{sizes['test']} test" if sizes["test"] else "no test"
    return f"data: {sizes['train']} train / {sizes['validation']} validation / {test} rows"


def warnings(spec: SweepSpec, sizes: dict[str, int] | None) -> list[str]:
    """One line per setting that cannot work as meant: the field, what happens, the numbers."""
    lines = _schedule_warnings(spec)
    if sizes is None:
        return lines
    samples = spec.data.train_eval_samples
    if samples > sizes["train"]:
        lines.append(f"data.train_eval_samples: {samples} is more than the {sizes['train']} "
                     f"training rows; the gap is measured on all {sizes['train']}")
    if sizes["validation"] < MIN_VALIDATION_ROWS:
        lines.append(f"data: the validation split has {sizes['validation']} rows: its loss is "
                     f"too noisy to choose a checkpoint by (at least {MIN_VALIDATION_ROWS}; a "
                     f"few hundred are better)")
    return lines


def _schedule_warnings(spec: SweepSpec) -> list[str]:
    """Rules and rungs that the trial's length leaves no room for."""
    steps = spec.training.max_steps
    if steps is None:
        return []
    lines = []
    if spec.training.eval_every > steps:
        lines.append(f"training.eval_every: {spec.training.eval_every} is beyond "
                     f"training.max_steps {steps}: one evaluation, at the last step")
    for name, rule in spec.stopping:
        grace = getattr(rule, "grace_steps", None)
        if rule is not None and rule.enabled and grace is not None and grace >= steps:
            lines.append(f"stopping.{name}.grace_steps: {grace} is not below "
                         f"training.max_steps {steps}: the rule can never stop a trial")
    if spec.scheduler.type != "fifo" and spec.scheduler.grace_period >= steps:
        lines.append(f"scheduler.grace_period: {spec.scheduler.grace_period} leaves no rung "
                     f"before the last step ({steps}): {spec.scheduler.type} never acts")
    return lines
