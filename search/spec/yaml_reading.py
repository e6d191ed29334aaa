"""Reading YAML as a sweep file needs it: like ``yaml.safe_load``, but a key given twice in one
mapping is refused. PyYAML keeps the last value silently, so a pasted block that repeats
``learning_rate:`` would change the sweep without a word."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from search.core.errors import SpecError
from search.spec.messages import one_line


class DuplicateKeyError(yaml.YAMLError):
    """A mapping names the same key twice."""

    def __init__(self, key: Any, line: int, first_line: int):
        super().__init__(f"line {line}: duplicate key {key!r} (first given on line "
                         f"{first_line}; only one may stay)")


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (``<<`` merge keys excepted)."""


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode,
                              deep: bool = False) -> dict:
    first_seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in first_seen:
            raise DuplicateKeyError(key, line, first_seen[key])
        first_seen[key] = line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                                 _construct_unique_mapping)


def read_yaml(text: str) -> Any:
    """Parse ``text`` safely; raises ``DuplicateKeyError`` for a key given twice, and
    ``yaml.YAMLError`` for anything else that is not YAML."""
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)


def read_spec_file(path: str | Path) -> Any:
    """The parsed YAML of a sweep file, unvalidated; raises ``SpecError`` naming the file when
    it is missing, a directory, or not YAML."""
    source = str(path)
    path = Path(path)
    if path.is_dir():
        raise SpecError([f"{source}: is a directory, not a sweep file"])
    if not path.is_file():
        raise SpecError([f"{source}: file not found"])
    try:
        return read_yaml(path.read_text(encoding="utf-8"))
    except DuplicateKeyError as error:
        raise SpecError([f"{source}: {error}"]) from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise SpecError([f"{source}: not valid YAML: {one_line(error)}"]) from None
