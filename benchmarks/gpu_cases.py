"""basin's own recipe, measured: the model shapes and sweep files of ``gpu_check.py``, one
``basin train`` case (tokens per second, MFU, peak memory, seconds per evaluation and per
checkpoint save, the saved adapter re-loaded against its probe), and what it is measured with.

Nothing here is imported by ``search/`` or ``trainables/``.
"""

from __future__ import annotations

import json
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import yaml

from benchmarks.common import PROJECT_DIR, SMOKE_LLAMA

SWEEP = PROJECT_DIR / "sweeps" / "smollm2_sft.yaml"
# gpu_wheels.sh puts SmolLM2's config and tokenizer here (its weights cannot travel).
SHIPPED_SMOLLM2 = PROJECT_DIR / "gpu_wheels" / "smollm2"
ALL_LINEAR = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
# TinyLlama's layers with SmolLM2's vocabulary (it borrows that tokenizer): 1.07e9 parameters.
LLAMA_1B = {"model_type": "llama", "vocab_size": 49152, "hidden_size": 2048,
            "intermediate_size": 5632, "num_hidden_layers": 22, "num_attention_heads": 32,
            "num_key_value_heads": 4, "max_position_embeddings": 2048,
            "tie_word_embeddings": True}
TINY_ALL_LINEAR = {**SMOKE_LLAMA, "hidden_size": 64, "intermediate_size": 128}
# Dense bf16 peaks (no sparsity) by the card's name, first match wins; H200 has H100's chip.
PEAK_BF16_TFLOPS = (("H200", 989.0), ("H100 PCIe", 756.0), ("H100", 989.0), ("A100", 312.0))
# One configuration (a best.yaml's space): LoRA r=16 everywhere, no dropout (the probe and the
# plain loop see the same network).
SPACE = {"learning_rate": 1e-3, "weight_decay": 0.0, "lora_dropout": 0.0, "lora_r": 16,
         "lora_alpha": 32}


@dataclass(frozen=True)
class Shape:
    """One model the check trains: its config (random weights), LoRA targets and schedule."""

    name: str
    config: dict
    targets: list[str]
    micro_batch: int
    steps: int
    eval_every: int
    zero_stages: tuple[int, ...]
    data: dict = field(default_factory=dict)


def smollm2_config(tokenizer_folder: Path) -> dict:
    """SmolLM2-135M-Instruct's architecture, as its converted folder's config.json says."""
    config = json.loads((tokenizer_folder / "config.json").read_text())
    keep = ("model_type", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
            "num_attention_heads", "num_key_value_heads", "head_dim", "max_position_embeddings",
            "rms_norm_eps", "rope_parameters", "tie_word_embeddings", "bos_token_id",
            "eos_token_id", "pad_token_id")
    return {key: config[key] for key in keep if key in config}


def shapes(tiny: bool, tokenizer_folder: Path) -> dict[str, Shape]:
    """The SmolLM2 recipe (the sweep's targets) and the ~1B model (LoRA on every linear)."""
    if tiny:  # the CPU dry-run: every path, in seconds
        data = {"demo": {"train_size": 16, "validation_size": 8, "test_size": 4,
                         "label_noise": 0.3}, "train_eval_samples": 8}
        return {"smollm2": Shape("smollm2", SMOKE_LLAMA, ["q_proj", "v_proj"], 4, 4, 2,
                                 (0, 2, 3), data),
                "llama1b": Shape("llama1b", TINY_ALL_LINEAR, ALL_LINEAR, 4, 4, 2, (0, 2), data)}
    data = {"demo": {"train_size": 2048, "validation_size": 48, "test_size": 16,
                     "label_noise": 0.3}, "train_eval_samples": 32}
    return {"smollm2": Shape("smollm2", smollm2_config(tokenizer_folder), ["q_proj", "v_proj"],
                             32, 60, 20, (0, 2, 3), data),
            "llama1b": Shape("llama1b", LLAMA_1B, ALL_LINEAR, 64, 40, 20, (0, 2), data)}


def tokenizer_folder() -> Path:
    """SmolLM2's config and tokenizer: shipped in gpu_wheels/, else basin's converted model."""
    if (SHIPPED_SMOLLM2 / "tokenizer.json").is_file():
        return SHIPPED_SMOLLM2
    from trainables.models.builtin_llm import tokenizer_for_random_models

    return Path(tokenizer_for_random_models())


def build_base(shape: Shape, folder: Path, tokenizer: Path, device: str) -> dict[str, Any]:
    """Save a random-weight model of ``shape`` with SmolLM2's tokenizer as a model folder, as a
    user's base would be (an export re-loads it); built on ``device`` (seconds for 1e9 weights
    on a GPU) and saved in bf16 there, fp32 on the CPU."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(AutoConfig.for_model(**shape.config),
                                                 dtype=dtype)
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(tokenizer).save_pretrained(folder)
    params = sum(p.numel() for p in model.parameters())
    del model
    return {"params": params, "saved_dtype": str(dtype).removeprefix("torch.")}


def write_sweep(path: Path, shape: Shape, base: Path, zero_stage: int, device: str,
                **training: Any) -> Path:
    """The SmolLM2 sweep (sweeps/smollm2_sft.yaml), shortened into a best.yaml-like file: one
    configuration, this shape's model and schedule, the device's precision."""
    sweep = yaml.safe_load(SWEEP.read_text())
    sweep.update(name=f"gpu-check-{shape.name}", space=dict(SPACE), output_dir=str(path.parent),
                 scheduler={"type": "fifo"}, tracking={"wandb": {"mode": "disabled"}})
    sweep["model"] = {"name": str(base), "task": "causal-lm", "lora_target_modules": shape.targets}
    sweep["data"].update(shape.data)
    sweep["training"].update(max_steps=shape.steps, eval_every=shape.eval_every,
                             micro_batch_size=shape.micro_batch,
                             precision="bf16" if device == "cuda" else "fp32", **training)
    sweep["deepspeed"] = {"zero_stage": zero_stage, "offload": False}
    sweep["resources"] = {"workers": 1, "gpus_per_worker": 1 if device == "cuda" else 0,
                          "cpus_per_worker": 1}
    if shape.data["demo"]["train_size"] < 100:  # the dry-run: the fewest answers to generate
        sweep["generation"] = {"exact_match_samples": 2, "max_new_tokens": 2}
        sweep["retention"] = {"samples": 4}
    path.write_text(yaml.safe_dump(sweep, sort_keys=False))
    return path


def synchronize() -> None:
    """Wait for the GPU's queued work, so that a clock read after it counts it."""
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


@contextmanager
def timed(owner: Any, name: str, seconds: list[float]) -> Iterator[None]:
    """Time every call of ``owner.name`` (a method or a module's function) into ``seconds``."""
    original = getattr(owner, name)

    def clocked(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            synchronize()
            seconds.append(time.perf_counter() - start)

    setattr(owner, name, clocked)
    try:
        yield
    finally:
        setattr(owner, name, original)


def peak_tflops(device_name: str | None) -> float | None:
    """The card's dense bf16 peak in TFLOP/s, by its name (None: unknown, or the CPU)."""
    for key, peak in PEAK_BF16_TFLOPS:
        if device_name and key in device_name:
            return peak
    return None


def flops_per_token(config: dict, targets: list[str], rank: int, length: float) -> float:
    """The FLOPs one trained token costs a LoRA recipe: the frozen matrices forward and their
    input gradients backward (4 per weight; no weight gradients), the adapters' 6 per weight,
    and causal attention over a mean context of half the sequence (``length`` tokens), forward
    and backward (3 x 2 x 2 per head dimension and context token). Embedding look-ups count
    nothing; the output layer counts."""
    hidden, layers = config["hidden_size"], config["num_hidden_layers"]
    heads = config["num_attention_heads"]
    head_dim = config.get("head_dim") or hidden // heads
    kv = config.get("num_key_value_heads") or heads
    inner = config["intermediate_size"]
    matrices = {"q_proj": (hidden, heads * head_dim), "k_proj": (hidden, kv * head_dim),
                "v_proj": (hidden, kv * head_dim), "o_proj": (heads * head_dim, hidden),
                "gate_proj": (hidden, inner), "up_proj": (hidden, inner),
                "down_proj": (inner, hidden)}
    frozen = layers * sum(i * o for i, o in matrices.values()) + config["vocab_size"] * hidden
    lora = layers * sum(rank * (i + o) for name, (i, o) in matrices.items() if name in targets)
    attention = 6 * layers * heads * head_dim * length
    return 4 * frozen + 6 * lora + attention


def memory_start(device: str) -> None:
    """Free what earlier cases left and start counting this case's peak."""
    from trainables.warm import release_trial_memory

    release_trial_memory()
    if device == "cuda":
        import torch

        torch.cuda.reset_peak_memory_stats()


def peak_memory_gib(device: str) -> float | None:
    """The most device memory tensors held since ``memory_start`` (None on the CPU)."""
    if device != "cuda":
        return None
    import torch

    return round(torch.cuda.max_memory_allocated() / 2**30, 3)


def reports(out: Path) -> list[dict]:
    """Every evaluation's report of a ``basin train`` into ``out``, by step."""
    from trainables.contract import CANDIDATES_FOLDER, TRIAL_METRICS_FILE

    found = [json.loads(f.read_text())
             for f in (out / CANDIDATES_FOLDER).glob(f"*/{TRIAL_METRICS_FILE}")]
    return sorted(found, key=lambda report: report["step"])


def verify_probe(sweep: Path, base: Path, candidate: Path) -> dict[str, Any]:
    """Re-load the saved adapter on its base as ``basin export`` does (fp32, the CPU) and
    compare with the probe the trial computed: the difference, the bound and the verdict."""
    import torch

    from search.report.export.verify import probe_precision, verification
    from search.spec.model import load_spec, trial_settings
    from trainables.contract import PROBE_FILE
    from trainables.tasks import task_for

    spec = load_spec(sweep)
    probe = json.loads((candidate / PROBE_FILE).read_text())
    task = task_for(trial_settings(spec))
    threads = torch.get_num_threads()
    torch.set_num_threads(os.cpu_count() or 1)  # the trial ran on 1 thread; this is the CPU's
    try:
        model = task.load_exported(str(base), str(candidate), probe)
        verdict = verification(task.probe_difference(model, probe),
                               probe_precision(probe, spec.training.precision))
    finally:
        torch.set_num_threads(threads)
    return {"probe_max_difference": verdict["verified_max_difference"],
            "probe_bound": verdict["verify_tolerance"],
            "probe_precision": verdict["verify_precision"],
            "probe_reproduced": verdict["verified"]}


def basin_case(sweep: Path, base: Path, shape: Shape, device: str, peak: float | None,
               say: Callable[[str], None]) -> dict[str, Any]:
    """``basin train`` on the sweep file, in this process, measured."""
    import trainables.recipe.loop as loop
    from search.lifecycle.foreground import train_here
    from search.spec.model import load_spec
    from trainables.contract import CANDIDATES_FOLDER, candidate_name

    out, spec = sweep.with_suffix(""), load_spec(sweep)
    evaluations: list[float] = []
    saves: list[float] = []
    memory_start(device)
    with timed(loop.Recipe, "evaluation", evaluations), \
            timed(loop, "save_checkpoint", saves):
        last = train_here(spec, str(sweep), out=out, say=say)
    steps = reports(out)
    # The first window pays the first steps' set-up (CUDA kernels chosen, buffers grown).
    steady = steps[1:] or steps
    tokens_per_s = sum(r["tokens_per_second"] for r in steady) / len(steady)
    length = steps[-1]["tokens_per_second"] / steps[-1]["samples_per_second"]
    flops = flops_per_token(shape.config, shape.targets, SPACE["lora_r"], length)
    candidate = out / CANDIDATES_FOLDER / candidate_name(last["best_step"])
    return {"zero_stage": spec.deepspeed.zero_stage, "precision": spec.training.precision,
            "micro_batch_size": shape.micro_batch, "steps": last["step"],
            "tokens_per_s": tokens_per_s,
            "tokens_per_s_first_window": steps[0]["tokens_per_second"],
            "samples_per_s": sum(r["samples_per_second"] for r in steady) / len(steady),
            "tokens_per_sample": length, "flops_per_token": flops,
            "mfu": tokens_per_s * flops / (peak * 1e12) if peak else None,
            "peak_memory_gib": peak_memory_gib(device),
            "eval_s": sum(evaluations) / len(evaluations), "save_s": sum(saves) / len(saves),
            "evaluations": len(evaluations), "startup_s": last["startup_seconds"],
            "val_loss": last["val_loss"], **verify_probe(sweep, base, candidate)}
