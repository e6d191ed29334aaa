"""What ``basin validate`` checks in local data files before anything trains.

Every file is read whole, with the reader training uses: its encoding, every JSON line, the
text and label of every row, at least one row per split, at least two classes in training, and
no validation or test label that training never saw. Reading SST-2's 67k rows takes ~0.2 s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from trainables.data_files import DataFileError, example_of, read_rows
from trainables.settings import DataSettings, ModelSettings

FILE_FIELDS = ("train_file", "validation_file", "test_file")


def is_class(label: Any) -> bool:
    """A label a classifier can learn: an integer, a non-blank string or a boolean."""
    return isinstance(label, (bool, int, str)) and not (isinstance(label, str)
                                                        and not label.strip())


def _file_labels(path: Path, shown: str, data: DataSettings
                 ) -> tuple[list[str], list[tuple[str, str]]]:
    """(labels of every row as training maps them, problems) of one readable data file."""
    columns, rows = read_rows(path)
    if not columns:
        return [], [("", f"{shown} is empty")]
    missing = [(f"data.{name}", f"no column {column!r} in {shown} (has {columns})")
               for name in ("text_column", "label_column")
               if (column := getattr(data, name)) not in columns]
    if missing:
        return [], missing
    labels = []
    for number, row in rows:
        _, label = example_of(number, row, data.text_column, data.label_column)
        if not is_class(label):
            return [], [("data.label_column", "labels must be classes (integers, strings or "
                         f"booleans); line {number} of {shown} has {label!r}")]
        labels.append(str(label))
    if not labels:
        return [], [("", f"{shown} has no rows, only a header")]
    return labels, []


def as_given(path: Path) -> str:
    """The path relative to the working directory when it is below it, as the user wrote it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def each_data_file(data: DataSettings, read: Callable[[str, Path, str], Any]
                   ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """``read(field, path, shown)`` of every data file that exists, by field, and the problems:
    a missing file, a folder, a file ``read`` cannot read (it raises ``DataFileError``)."""
    results: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for field in FILE_FIELDS:
        value = getattr(data, field)
        if value is None:
            continue
        path = Path(value).expanduser()
        shown = as_given(path)
        if not path.is_file():
            what = "is a directory, not a file" if path.is_dir() else "file not found"
            problems.append((f"data.{field}", f"{what} (got {shown!r})"))
            continue
        try:
            results[field] = read(field, path, shown)
        except DataFileError as error:
            problems.append((f"data.{field}", f"cannot read {shown}: {error}"))
    return results, problems


def check_data(data: DataSettings, model: ModelSettings) -> list[tuple[str, str]]:
    """The task's data check (``TaskDeclaration.check_data``): the data files' problems."""
    return check_data_files(data)


def check_data_files(data: DataSettings) -> list[tuple[str, str]]:
    """Problems with the data files, as (field path, message) pairs; empty when all is well."""
    if data.source != "files":
        return []
    read, problems = each_data_file(data, lambda _, path, shown: _file_labels(path, shown, data))
    labels: dict[str, list[str]] = {}
    for field, (found, trouble) in read.items():
        problems += [(where or f"data.{field}", message) for where, message in trouble]
        if found:
            labels[field] = found
    return problems + _label_problems(data, labels)


def _label_problems(data: DataSettings, labels: dict[str, list[str]]) -> list[tuple[str, str]]:
    """At least two classes to learn; no class to evaluate that training never saw."""
    if "train_file" not in labels:
        return []
    train = labels["train_file"][:data.max_train_examples]
    classes = sorted(set(train))
    if len(classes) < 2:
        shown = as_given(Path(data.train_file))
        return [("data.label_column", f"{shown} has one class only ({classes[0]!r} in "
                 f"{data.label_column!r}); a classifier needs at least two")]
    problems = []
    for field in ("validation_file", "test_file"):
        unseen = sorted(set(labels.get(field, [])) - set(classes))
        if unseen:
            shown = as_given(Path(getattr(data, field)))
            problems.append((f"data.{field}", f"labels that training never saw: {unseen[:5]} in "
                             f"{shown} (training has {classes[:10]})"))
    return problems
