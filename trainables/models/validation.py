"""What ``basin validate`` checks of the model before anything trains, without loading weights.

The model must be a model folder (a ``config.json``), reachable (a hub id on a machine without
network must already be in the local Hugging Face cache), of an architecture the task can train,
and have every module named in ``lora_target_modules``. The task's declaration says what it
builds (``TaskModel``: its Auto class and its own check), so a task from outside basin is
checked as it trains. Module names come from the weight file's
header (safetensors) or, failing that, from the model built on the meta device (no memory).
"""

from __future__ import annotations

import json
import os
import re
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from trainables.models.source import (
    builtin_minilm_path,
    is_local,
    smollm2_folder,
    smollm2_gguf_path,
)
from trainables.settings import BUILTIN_MINILM, BUILTIN_SMOLLM2, ModelSettings

Problems = list[tuple[str, str]]
_HUB_PROBE_SECONDS = 3.0


# What a task builds unless its declaration says otherwise (trainables/tasks/declaration.py).
SEQUENCE_CLASSIFIER = "AutoModelForSequenceClassification"
# A task's own check of a model's config: why it cannot train the model, or None.
ConfigCheck = Callable[[dict], "str | None"]


@dataclass(frozen=True)
class TaskModel:
    """What the model check needs of the sweep's task: the transformers Auto class it builds
    its model with, and its own further check (the task's declaration gives both)."""

    model_class: str = SEQUENCE_CLASSIFIER
    check: ConfigCheck | None = None


def check_model(settings: ModelSettings, task: TaskModel = TaskModel()) -> Problems:
    """Problems with the model, as (field path, message) pairs; empty when all is well."""
    if settings.random_init_config is not None:
        return _check_config_dict(settings, task)
    try:
        folder = _model_folder(settings.name)
    except LookupError as error:
        return [("model.name", str(error))]
    if folder is None:  # a hub id on a machine with network: not downloaded just to check
        return []
    if not (folder / "config.json").is_file():  # SmolLM2 before its one-time conversion
        config = {"model_type": "llama", "architectures": ["LlamaForCausalLM"]}
    else:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    if (settings.name, task) != (BUILTIN_MINILM, TaskModel()):
        problem = _task_problem(settings, config, task)  # (MiniLM classifies: no import)
        if problem:
            return [("model.name", problem)]
    if not settings.lora_target_modules:
        return []
    names = _weight_module_names(folder)
    if names is None:
        names = _meta_module_names(config, task.model_class)
    return _missing_targets(settings, names)


def _model_folder(name: str) -> Path | None:
    """The local folder holding the model's config, or None for a hub id that may download."""
    if name in (BUILTIN_MINILM, BUILTIN_SMOLLM2):
        try:
            if name == BUILTIN_MINILM:
                return builtin_minilm_path()
            smollm2_gguf_path()
            return smollm2_folder()
        except RuntimeError as error:
            raise LookupError(str(error)) from None
    if is_local(name):
        folder = Path(name).expanduser()
        if not (folder / "config.json").is_file():
            raise LookupError(f"not a model folder: no config.json in it (got {name!r})")
        return folder
    from huggingface_hub import constants, try_to_load_from_cache

    cached = try_to_load_from_cache(name, "config.json")
    if isinstance(cached, str):
        return Path(cached).parent
    if constants.HF_HUB_OFFLINE or _offline_in_env():
        raise LookupError(f"not in the local Hugging Face cache and HF_HUB_OFFLINE is set; "
                          f"download it on a machine with network or give a local folder "
                          f"(got {name!r})")
    host = urlparse(constants.ENDPOINT).hostname or "huggingface.co"
    try:
        socket.create_connection((host, 443), timeout=_HUB_PROBE_SECONDS).close()
    except OSError as error:
        raise LookupError(f"not a local folder, not in the local Hugging Face cache, and {host} "
                          f"cannot be reached ({error.strerror or error}); give a local folder "
                          f"(got {name!r})") from None
    return None


def _task_problem(settings: ModelSettings, config: dict, task: TaskModel) -> str | None:
    """Why the task cannot train the model's architecture, or None: its own check first (it
    says why in the task's words), then whether its Auto class builds the architecture."""
    shown = ("model.random_init_config" if settings.random_init_config is not None
             else repr(settings.name))
    problem = task.check(config) if task.check is not None else None
    if problem:
        return f"{problem} (got {shown})"
    builds = _architectures_built_by(task.model_class)
    if builds is None:
        return (f"task {settings.task!r} builds its model with {task.model_class!r}, which is "
                "not one of transformers' Auto classes (e.g. AutoModelForTokenClassification)")
    model_type = config.get("model_type")
    if model_type not in builds:
        return (f"a {model_type!r} model has no {_head(task.model_class)} in transformers, "
                f"so task {settings.task!r} cannot train it (got {shown})")
    return None


def _architectures_built_by(model_class: str) -> Mapping[str, str] | None:
    """The model types an Auto class builds (model type -> class name: transformers'
    MODEL_FOR_*_MAPPING_NAMES), or None for a name that is not an Auto class."""
    import transformers

    auto = getattr(transformers, model_class, None) if model_class.startswith("Auto") else None
    mapping = getattr(getattr(auto, "_model_mapping", None), "_model_mapping", None)
    return mapping if isinstance(mapping, Mapping) else None


def _head(model_class: str) -> str:
    """"AutoModelForTokenClassification" -> "token-classification head"."""
    words = re.findall(r"[A-Z][a-z]+|[A-Z]+(?![a-z])", model_class.removeprefix("AutoModelFor"))
    return "-".join(word.lower() for word in words) + " head"


def _check_config_dict(settings: ModelSettings, task: TaskModel) -> Problems:
    from transformers import CONFIG_MAPPING, AutoConfig

    model_type = settings.random_init_config.get("model_type")
    if model_type not in CONFIG_MAPPING:
        return [("model.random_init_config", f"model_type must name a transformers "
                 f"architecture, e.g. 'bert' (got {model_type!r})")]
    try:
        config = AutoConfig.for_model(**settings.random_init_config).to_dict()
    except Exception as error:  # noqa: BLE001 - transformers raises several kinds for bad fields
        detail = " ".join(str(error).split())
        return [("model.random_init_config", f"not a {model_type} config: {detail}")]
    problem = _task_problem(settings, config, task)
    if problem:
        return [("model.task", problem)]
    if not settings.lora_target_modules:
        return []
    return _missing_targets(settings, _meta_module_names(config, task.model_class))


def _weight_module_names(folder: Path) -> set[str] | None:
    """Names of the modules that hold weights, read from safetensors headers; None if the
    folder has no safetensors files."""
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        return {key.rpartition(".")[0] for key in json.loads(index.read_text())["weight_map"]}
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        return None
    from safetensors import safe_open

    names: set[str] = set()
    for file in files:
        with safe_open(str(file), framework="np") as weights:
            names |= {key.rpartition(".")[0] for key in weights.keys()}
    return names


def _meta_module_names(config: dict, model_class: str) -> set[str]:
    """Module names of the model the task's Auto class builds on the meta device: shapes only,
    no memory, no weights."""
    import torch
    import transformers
    from transformers import AutoConfig

    built = AutoConfig.for_model(**config)
    with torch.device("meta"):
        model = getattr(transformers, model_class).from_config(built)
    return {name for name, _ in model.named_modules() if name}


def _missing_targets(settings: ModelSettings, names: set[str]) -> Problems:
    """Targets no module matches; peft matches a target by the module name's last parts."""
    def matches(target: str) -> bool:
        return any(name == target or name.endswith("." + target) for name in names)

    missing = [target for target in settings.lora_target_modules if not matches(target)]
    if not missing:
        return []
    endings = sorted({name.rpartition(".")[2] for name in names if not name[-1:].isdigit()})
    model = ("the model of model.random_init_config" if settings.random_init_config is not None
             else settings.name)
    return [("model.lora_target_modules", f"no module named {target!r} in {model} "
             f"(it has e.g. {endings[:12]})") for target in missing]


def _offline_in_env() -> bool:
    """HF_HUB_OFFLINE set after huggingface_hub read its constants (tests, notebooks)."""
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
