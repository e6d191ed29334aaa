"""The cases of ``gpu_check.py`` that are not basin's recipe measured: the plain PyTorch loop it
is compared with, a micro-batch far too large (basin's one line, not CUDA's traceback), and the
suite's GPU tests.

Nothing here is imported by ``search/`` or ``trainables/``.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from contextlib import contextmanager, redirect_stderr
from pathlib import Path
from typing import Any, Iterator

import yaml

from benchmarks.common import PROJECT_DIR
from benchmarks.gpu_cases import (
    SPACE,
    Shape,
    flops_per_token,
    memory_start,
    peak_memory_gib,
    synchronize,
)

# What a CUDA device says when it runs out of memory; the CPU dry-run raises it by hand.
CUDA_SAYS = ("CUDA out of memory. Tried to allocate 169.00 GiB. GPU 0 has a total capacity of "
             "79.19 GiB (simulated by benchmarks/gpu_check.py on the CPU)")


@contextmanager
def simulated_out_of_memory(simulate: bool) -> Iterator[None]:
    """On the CPU, the first optimizer step raises CUDA's out-of-memory error (a CPU cannot
    run out of CUDA memory); on a GPU, nothing changes."""
    import torch

    import trainables.recipe.loop as loop

    original = loop.Recipe.optimizer_step

    def out_of_memory(*args: Any, **kwargs: Any) -> None:
        raise torch.cuda.OutOfMemoryError(CUDA_SAYS)

    if simulate:
        loop.Recipe.optimizer_step = out_of_memory
    try:
        yield
    finally:
        loop.Recipe.optimizer_step = original


def plain_case(sweep: Path, base: Path, shape: Shape, device: str,
               peak: float | None) -> dict[str, Any]:
    """transformers + peft + torch's AdamW on the same base, LoRA, batches and precision as
    the basin case of the same sweep file, nothing else; timed over the steps after the first
    window (as basin's steady figure is)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from search.spec.model import load_spec, trial_settings
    from trainables.recipe.setup import seed_everything
    from trainables.tasks import task_for

    spec = load_spec(sweep)
    training, dtype = spec.training, (torch.bfloat16 if device == "cuda" else torch.float32)
    task = task_for(trial_settings(spec))  # basin's tokenized data: the same batches
    loader = task.make_loader(task.data.train, training.micro_batch_size, 0, 1, shuffle=True,
                              seed=training.seed)
    memory_start(device)
    seed_everything(training.seed)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(
        task_type="CAUSAL_LM", r=SPACE["lora_r"], lora_alpha=SPACE["lora_alpha"],
        lora_dropout=SPACE["lora_dropout"], target_modules=shape.targets)).to(device, dtype)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=SPACE["learning_rate"],
                                  weight_decay=SPACE["weight_decay"])
    tokens, samples, seconds = _steps(model, loader, trainable, optimizer, shape, device)
    length = tokens / samples
    flops = flops_per_token(shape.config, shape.targets, SPACE["lora_r"], length)
    return {"tokens_per_s": tokens / seconds, "samples_per_s": samples / seconds,
            "timed_steps": shape.steps - shape.eval_every, "tokens_per_sample": length,
            "mfu": tokens / seconds * flops / (peak * 1e12) if peak else None,
            "peak_memory_gib": peak_memory_gib(device),
            "precision": "bf16" if dtype == torch.bfloat16 else "fp32"}


def _steps(model: Any, loader: Any, trainable: list, optimizer: Any, shape: Shape,
           device: str) -> tuple[int, int, float]:
    """Train ``shape.steps`` steps; (tokens, samples, seconds) of those after the first
    window (the first window is set-up, as for basin's figure)."""
    import torch

    model.train()
    batches, epoch, tokens, samples, clock = iter(loader), 0, 0, 0, 0.0
    for step in range(shape.steps):
        if step == shape.eval_every:
            synchronize()
            clock, tokens, samples = time.perf_counter(), 0, 0
        batch = next(batches, None)
        if batch is None:  # the next pass, reshuffled as basin's loader is
            epoch += 1
            loader.sampler.set_epoch(epoch)
            batches = iter(loader)
            batch = next(batches)
        batch = {key: value.to(device) for key, value in batch.items()}
        loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        loss.item()  # basin reads every loss (its NaN check, its curve); so does this loop
        tokens += int(batch["attention_mask"].sum())
        samples += batch["input_ids"].shape[0]
    synchronize()
    return tokens, samples, time.perf_counter() - clock


def subprocess_env() -> dict[str, str]:
    """This environment, with the project importable (the wheels' folder stays first)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(
        [p for p in (env.get("PYTHONPATH"), str(PROJECT_DIR)) if p])
    return env


def oom_case(sweep: Path, device: str, tiny: bool) -> dict[str, Any]:
    """``basin train`` with a micro-batch far too large, as the console script runs it (its
    arguments, its exit code, what it writes to stderr): one line naming the setting, and no
    traceback (an error that escaped would fail this case with its traceback)."""
    from search.cli.main import main
    from trainables.warm import release_trial_memory

    raw = yaml.safe_load(sweep.read_text())
    raw["name"] += "-oom"
    raw["training"].update(max_steps=1, eval_every=1, micro_batch_size=16 if tiny else 4096)
    raw["data"]["demo"].update(train_size=16 if tiny else 4096, validation_size=4, test_size=0)
    raw["generation"], raw["retention"] = {"exact_match_samples": 0}, {"enabled": False}
    if not tiny:  # ~400 tokens an example: 4096 of them ask for ~160 GiB of logits alone
        raw["data"].update(system_prompt="Answer with the result only. " * 60, max_length=512)
    oom = sweep.with_name(sweep.stem + "-oom.yaml")
    oom.write_text(yaml.safe_dump(raw, sort_keys=False))
    stderr = io.StringIO()
    try:
        with redirect_stderr(stderr), simulated_out_of_memory(device == "cpu"):
            code = main(["train", str(oom), "--out", str(oom.with_suffix(""))])
    finally:
        release_trial_memory()  # what the failed step held goes back before the next case
    said = stderr.getvalue()
    lines = [line for line in said.splitlines() if "training.micro_batch_size" in line]
    return {"exit_code": code, "message": lines[-1] if lines else said.strip()[-500:],
            "simulated": device == "cpu", "traceback": "Traceback" in said,
            "ok": code == 2 and bool(lines) and "Traceback" not in said}


def gpu_test_files() -> list[str]:
    """The suite's test files that hold GPU tests (marked ``gpu``): only these are collected,
    so the rest of the suite's libraries (Ray, W&B) need not be there."""
    return sorted(str(path.relative_to(PROJECT_DIR))
                  for path in (PROJECT_DIR / "tests").rglob("test_*.py")
                  if "pytest.mark.gpu" in path.read_text())


def gpu_tests_case(timeout: float) -> dict[str, Any]:
    """``pytest -m gpu`` over those files: on a GPU they run, elsewhere they skip."""
    files = gpu_test_files()
    if not files:  # pytest would collect the whole suite to deselect all of it
        return {"exit_code": None, "files": [], "summary": "no test file holds a gpu test",
                "ok": False}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "gpu", "-p",
                           "no:cacheprovider", *files], capture_output=True, text=True,
                          timeout=timeout, cwd=PROJECT_DIR, env=subprocess_env())
    lines = done.stdout.strip().splitlines()
    return {"exit_code": done.returncode, "files": files, "summary": lines[-1] if lines else "",
            "ok": done.returncode == 0, "output_tail": (done.stdout + done.stderr)[-3000:]}
