"""Reading local CSV, TSV and JSONL data files row by row, with the line of every problem, and
assembling a task's splits from them (or from a hub dataset). Torch-free.

Training reads them through ``read_examples``; ``basin validate`` reads them through the same
code (``trainables/tasks/classification/validation.py``), so a file that validates is a file that
trains.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

from trainables.settings import DataSettings


class DataFileError(ValueError):
    """A data file that cannot be read as rows; the message names the line."""


def file_format(path: Path) -> str:
    """``csv``, ``tsv`` or ``jsonl``, from the file's suffix."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        return suffix[1:]
    if suffix in (".jsonl", ".json"):
        return "jsonl"
    raise DataFileError(f"unsupported data file type {suffix!r} (use .csv, .tsv or .jsonl)")


def _text(path: Path) -> str:
    """The whole file as text; bytes that are not UTF-8 are reported with their line."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        raise DataFileError(f"line {line} is not UTF-8 text (byte {raw[error.start]:#04x} at "
                            f"offset {error.start}); save the file as UTF-8") from None


def read_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    """(column names, rows as (line number, row)) of a data file.

    Columns come from the header (CSV/TSV) or the first record (JSONL). Rows are checked as
    they are read: each JSONL line must be a JSON object.
    """
    kind = file_format(path)
    text = _text(path)
    if kind == "jsonl":
        records = list(_jsonl_records(text))
        columns = list(records[0][1]) if records else []
        return columns, iter(records)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t" if kind == "tsv" else ",")
    columns = next(reader, [])

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        for values in reader:
            if values:
                yield reader.line_num, dict(zip(columns, values))

    return columns, rows()


def _jsonl_records(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataFileError(f"line {number} is not valid JSON: {error.msg} (column "
                                f"{error.colno})") from None
        if not isinstance(record, dict):
            raise DataFileError(f"line {number} is not a JSON object with named fields (got "
                                f"{record!r:.40})")
        yield number, record


def example_of(number: int, row: dict[str, Any], text_column: str, label_column: str
               ) -> tuple[str, Any]:
    """(text, label) of the row at line ``number``; a row without one of them is an error."""
    for column in (text_column, label_column):
        if row.get(column) is None:
            raise DataFileError(f"line {number} has no {column!r}")
    return str(row[text_column]), row[label_column]


def read_examples(path: Path, text_column: str, label_column: str) -> list[tuple[str, Any]]:
    """(text, label) of every row; a row without one of the two columns is an error."""
    _, rows = read_rows(path)
    return [example_of(number, row, text_column, label_column) for number, row in rows]


def carve_validation(train: list, fraction: float, seed: int) -> tuple[list, list]:
    """(train, validation): a seeded ``fraction`` of the training examples held out."""
    shuffled = list(train)
    random.Random(seed).shuffle(shuffled)
    cut = max(1, int(len(shuffled) * fraction))
    return shuffled[cut:], shuffled[:cut]


def assemble_splits(data: DataSettings, read_file: Callable[[Path], list],
                    read_hf: Callable[[], dict[str, list]], seed: int
                    ) -> tuple[list, list, list]:
    """(train, validation, test) from local files or a hub dataset: the first
    ``max_train_examples`` of training, and without a validation split a seeded share of it.
    Both tasks read their data this way, each with its own row reader."""
    if data.source == "files":
        train = read_file(Path(data.train_file).expanduser())
        validation = (read_file(Path(data.validation_file).expanduser())
                      if data.validation_file else None)
        test = read_file(Path(data.test_file).expanduser()) if data.test_file else []
    else:
        loaded = read_hf()
        train, validation, test = loaded["train"], loaded.get("validation"), loaded.get("test", [])
    if data.max_train_examples is not None:
        train = train[: data.max_train_examples]
    if validation is None:
        train, validation = carve_validation(train, data.validation_fraction, seed)
    return train, validation, test
