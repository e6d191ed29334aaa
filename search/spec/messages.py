"""How a mistake in a sweep file is said: one line with the file, the field path and the value."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel


def one_line(error: BaseException) -> str:
    """An exception's message with its line breaks and runs of spaces folded into one line."""
    return " ".join(str(error).split())


def _known_fields(model: type[BaseModel], loc: tuple) -> list[str]:
    """Field names allowed at the parent of ``loc``, for a did-you-mean hint."""
    for part in loc[:-1]:
        field = model.model_fields.get(str(part)) if isinstance(part, str) else None
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


# The tags of search/sampling/space.py's parameter union, which pydantic puts in error paths.
_PARAM_TAGS = {"float", "int", "choice", "constant"}


def _short(value: Any, limit: int = 80) -> str:
    """The value as Python writes it, cut to ``limit`` characters: one line stays readable."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def format_error(source: str, error: dict, root: type[BaseModel], criteria: Iterable[str],
                 overrides: list[str] | None = None) -> str:
    """One pydantic error of the sweep file (model ``root``) as one line: file (or the ``--set``
    of ``overrides`` that set the field), field, value."""

    loc = tuple(error["loc"])
    # Pydantic puts the union tag in the path (space.lr.float.low, selection.one-se.x); a user
    # never wrote it.
    if len(loc) > 2 and loc[0] == "space" and loc[2] in _PARAM_TAGS:
        loc = loc[:2] + loc[3:]
    if len(loc) > 1 and loc[0] == "selection" and loc[1] in criteria:
        loc = loc[:1] + loc[2:]
    path = ".".join(str(part) for part in loc) or "(top level)"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        close = difflib.get_close_matches(str(loc[-1]), _known_fields(root, loc), n=1)
        message = "unknown key" + (f" (did you mean {close[0]!r}?)" if close else "")
    value = error.get("input")
    shown = "" if isinstance(value, dict) or "(got" in message else f" (got {_short(value)})"
    named = re.match(r"([a-z_]+(?:\.[a-z_]+)+): ", message)
    if named and (not loc or named.group(1).startswith(path + ".")):
        return f"{source}: {message}{shown}"  # a check across fields that names its field
    first = re.match(r"([a-z_]+)[. ]", message)
    if not loc and first and first.group(1) in root.model_fields:
        return f"{source}: {message}{shown}"  # the same, phrased "a.b must ..."
    return f"{where(source, path, overrides)}: {message}{shown}"


def where(source: str, path: str, overrides: list[str] | None = None) -> str:
    """How a mistake at the dotted field ``path`` is located: ``"FILE: path"``, or, where the
    last ``--set`` of ``overrides`` touching that field (or one inside or above it) put it
    there, ``"--set path"`` (``"--set key: path"`` when the ``--set`` named another level)."""
    for assignment in reversed(overrides or []):
        key = assignment.partition("=")[0].strip()
        if path == key:
            return f"--set {key}"
        if path.startswith(key + ".") or key.startswith(path + "."):
            return f"--set {key}: {path}"
    return f"{source}: {path}"


def blame_overrides(problem: str, source: str, overrides: list[str] | None) -> str:
    """A ``"source: field: message"`` line found once the sweep was loaded (preflight, the
    cluster), blamed on the ``--set`` that set ``field`` where one did."""
    prefix = f"{source}: "
    if not overrides or not problem.startswith(prefix):
        return problem
    rest = problem[len(prefix):]
    field = rest.partition(": ")[0]
    if " " in field or not field:
        return problem  # not a field: a sentence about the whole sweep
    return f"{where(source, field, overrides)}: {rest.partition(': ')[2]}"

