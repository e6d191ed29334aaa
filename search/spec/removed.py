"""Settings basin no longer takes, and the one line a sweep file that names one gets: what
replaced it, or why it went (a run directory's recorded ``sweep.yaml`` is read more gently:
``recorded.py``). The measurements of what went for doing no better stay in
benchmarks/RESULTS.md."""

from __future__ import annotations

import copy
from typing import Any, Callable

from search.core.errors import SpecError
from search.spec.messages import where

# (dotted field, which of its values are refused, why: a template that may name the value).
# A value not refused stays where the field still exists (scheduler.thaw: rank) and is dropped
# where it does not (search.multi_objective: false).
REMOVED: list[tuple[str, Callable[[Any], bool], str]] = [
    ("gap_pruning", lambda value: True,
     "replaced by stopping.gap (see sweeps/README.md: the gap rule now stops on the turn of the "
     "validation loss; threshold is optional)"),
    ("scheduler.thaw", lambda value: value in ("forecast", "model"),
     "{value!r} was removed in basin 0.2, measured worse than rank (benchmarks/RESULTS.md, "
     "'Issue 30'); use rank (the default) or undecided (got {value!r})"),
    ("search.multi_objective", lambda value: value is not False,
     "was removed in basin 0.2, measured no better (benchmarks/RESULTS.md, 'Multi-objective "
     "search'); for a retentive checkpoint use selection: {{criterion: retentive}} "
     "(got {value!r})"),
]

GONE = {"gap_pruning", "search.multi_objective"}  # fields that no longer exist at all


def _holder(raw: dict, path: str) -> dict | None:
    """The mapping of ``raw`` that holds the dotted ``path``'s last key, or None."""
    node: Any = raw
    for part in path.split(".")[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, dict) and path.split(".")[-1] in node else None


def refuse_removed(raw: dict, source: str, overrides: list[str] | None = None) -> dict:
    """``raw`` without the removed settings, or a line for each one it names with a value
    basin refuses (one that means what basin does anyway, ``multi_objective: false``, is
    dropped)."""
    raw, problems = copy.deepcopy(raw), []
    for path, refused, why in REMOVED:
        holder = _holder(raw, path)
        if holder is None:
            continue
        key = path.split(".")[-1]
        if refused(holder[key]):
            problems.append(f"{where(source, path, overrides)}: {why.format(value=holder[key])}")
        elif path in GONE:
            del holder[key]
    if problems:
        raise SpecError(problems)
    return raw
