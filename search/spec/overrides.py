"""What the command line changes in a sweep file: ``--set key.path=value`` (and, when such a
field is wrong, the message blames the ``--set``, not the file), and ``enabled: false`` on an
optional block, which switches it off as it does a stopping rule."""

from __future__ import annotations

from typing import Any

import yaml

from search.core.errors import SpecError
from search.spec.messages import one_line, where
from search.spec.yaml_reading import read_yaml
from search.trackers import TrackingSpec


def apply_override(raw: dict, assignment: str) -> None:
    """Apply one ``--set key.path=value`` to the raw sweep dict (value parsed as YAML)."""
    key, sep, text = assignment.partition("=")
    if not sep or not key.strip():
        raise SpecError([f"--set {assignment!r}: expected key.path=value"])
    parts = key.strip().split(".")
    node = raw
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise SpecError([f"--set {assignment!r}: {part!r} is not a section"])
        node = child
    try:
        node[parts[-1]] = read_yaml(text) if text.strip() else None
    except yaml.YAMLError as error:
        raise SpecError([f"--set {assignment!r}: the value is not valid YAML: "
                         f"{one_line(error)}"]) from None


# Optional blocks and what ``enabled: false`` in them means (stopping rules read their own
# ``enabled`` field: search/stopping/base.py; each tracker says its own: ``OFF``).
_SWITCHED_OFF = {
    ("check",): None,                          # no basin check at the sweep's end
    ("scheduler",): {"type": "fifo"},          # every trial to its budget or its stop rules
    **{("tracking", name): field.annotation.OFF
       for name, field in TrackingSpec.model_fields.items()},
}


def switch_off_disabled_blocks(raw: Any, source: str = "<sweep>",
                               overrides: list[str] | None = None) -> Any:
    """``raw`` with each optional block's ``enabled`` read: ``enabled: false`` replaces the block
    by its switched-off form, ``enabled: true`` is dropped (the block's own settings stay). A
    non-boolean ``enabled`` is refused with the field and the value."""
    if not isinstance(raw, dict):
        return raw
    raw = dict(raw)
    for path, off in _SWITCHED_OFF.items():
        parent, block = _parent_and_block(raw, path)
        if not isinstance(block, dict) or "enabled" not in block:
            continue
        enabled = block["enabled"]
        if not isinstance(enabled, bool):
            field = ".".join(path) + ".enabled"
            raise SpecError([f"{where(source, field, overrides)}: expected true or false "
                             f"(got {enabled!r})"])
        parent[path[-1]] = {k: v for k, v in block.items() if k != "enabled"} if enabled \
            else off
    return raw


def _parent_and_block(raw: dict, path: tuple[str, ...]) -> tuple[dict, Any]:
    """The (copied) mapping holding the block at ``path``, and the block (None if absent)."""
    parent = raw
    for part in path[:-1]:
        child = parent.get(part)
        if not isinstance(child, dict):
            return parent, None
        parent[part] = child = dict(child)
        parent = child
    return parent, parent.get(path[-1])
