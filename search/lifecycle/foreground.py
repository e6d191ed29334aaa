"""``basin train``: one configuration's trial, in this process, without Ray, Optuna or W&B.

The same recipe, task, DeepSpeed engine, evaluations and checkpoints as a trial inside a sweep,
its figures printed as it goes and its traceback a user can read (and a debugger stop in). It is
how the chosen recipe (a ``best.yaml`` or an export's ``config.yaml``) is trained again for
production on one machine, and how a failing trial is debugged. ``torchrun`` or ``deepspeed``
launch it on several GPUs of one machine: each process joins the group their environment names.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from search.core.driver_log import DriverLog
from search.core.errors import SpecError
from search.sampling.space import ConstantParam
from search.spec.model import SweepSpec, trial_settings
from search.spec.reproduce import verdict
from trainables.contract import BEST_OBJECTIVE, GAP, STEP, TRAIN_EVAL_LOSS, VAL_LOSS

TRAIN_FOLDER = "{name}-train-{stamp}"


def one_configuration(spec: SweepSpec, source: str) -> dict[str, Any]:
    """The single configuration a sweep file names: every hyperparameter of its space a value
    (a best.yaml's or an export's are); a range is refused, naming it and how to fix it."""
    ranges = [name for name, param in spec.space.items() if not isinstance(param, ConstantParam)]
    if ranges:
        raise SpecError([f"{source}: space.{name}: basin train trains one configuration, and "
                         f"this is a range; give it a value, e.g. --set space.{name}=..."
                         for name in ranges])
    return {name: param.value for name, param in spec.space.items()}


def gpus_problem(spec: SweepSpec, cuda_available: bool) -> str | None:
    """Why this machine cannot train what the sweep asks for (GPUs it does not have), or None."""
    if spec.resources.gpus_per_worker > 0 and not cuda_available:
        return (f"resources.gpus_per_worker: the sweep asks for {spec.resources.gpus_per_worker:g}"
                f" GPU per worker and this machine has no CUDA device (set it to 0 to train on "
                f"the CPU)")
    return None


def join_process_group(on_gpu: bool) -> None:
    """This process's place in its group: the one torchrun or deepspeed set up in the
    environment (several GPUs), else a group of its own."""
    import torch.distributed as dist

    from trainables.trial.entry import init_single_process_group

    if dist.is_initialized():
        return
    backend = "nccl" if on_gpu else "gloo"
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:  # launched by torchrun or deepspeed
        dist.init_process_group(backend)
    else:
        init_single_process_group(backend)


def settle_library_output() -> None:
    """Before a DriverLog takes the libraries' log handlers: transformers adds its own stderr
    handler on first use (which would then print beside the log), and draws progress bars
    (loading weights, converting a GGUF file) on stderr, past the log: no bars, handler now."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.get_logger("transformers")  # sets up its handler, for DriverLog to take
    transformers_logging.disable_progress_bar()


def train_here(spec: SweepSpec, source: str, out: Path | None = None,
               say: Callable[[str], None] = print,
               log: DriverLog | None = None) -> dict[str, Any]:
    """Train the sweep file's one configuration here; every evaluation's checkpoint (adapter,
    metrics, probe) goes to ``out/candidates``. With ``log``, what the libraries say (their
    log records, warnings, prints and progress bars) goes to ``out/driver.log``, and only
    basin's lines reach the terminal. Returns the last report."""
    import torch
    import torch.distributed as dist

    from trainables.fingerprint import library_versions, recipe_hash
    from trainables.recipe.ds_config import resolve_precision
    from trainables.recipe.loop import train
    from trainables.settings import Hyperparameters
    from trainables.trial.faults import out_of_memory, out_of_memory_line

    params = one_configuration(spec, source)
    problem = gpus_problem(spec, torch.cuda.is_available())
    if problem:
        raise SpecError([f"{source}: {problem}"])
    out = out or Path(spec.output_dir) / TRAIN_FOLDER.format(
        name=spec.name, stamp=datetime.now().strftime("%Y%m%d-%H%M%S"))
    out.mkdir(parents=True, exist_ok=True)
    if log is not None:
        log.write_to(out)
    join_process_group(spec.resources.gpus_per_worker > 0)
    settings = trial_settings(spec)
    say(f"basin: training {spec.name} in this process, checkpoints in {out}")
    started, reports = time.monotonic(), {}
    hp = Hyperparameters(**params)
    try:
        with log.prints() if log is not None else contextlib.nullcontext():
            metrics = train(hp, settings, _reporter(out, started, say, reports))
    except Exception as error:
        # A micro-batch that does not fit the GPU: basin's one line instead of CUDA's traceback.
        oom = out_of_memory(error)
        if oom is None:
            raise
        training = settings.training
        raise SpecError([f"{source}: " + out_of_memory_line(
            oom, training.micro_batch_size, training.gradient_accumulation)]) from None
    say(f"best {spec.objective.metric} {metrics[BEST_OBJECTIVE]:.4f} at step "
        f"{metrics['best_step']}; its checkpoint: {_candidate(out, metrics['best_step'])}")
    if spec.reproduce is not None and dist.get_rank() == 0:
        say(verdict(spec.reproduce, reports, recipe_hash(settings, hp), library_versions(),
                    resolve_precision(spec.training.precision, torch.cuda.is_available()))[1])
    return metrics


def _reporter(out: Path, started: float, say: Callable[[str], None],
              reports: dict[int, dict]) -> Any:
    """Publish each evaluation's candidate, print its figures and keep them in ``reports``."""
    import pyarrow.fs as pafs
    import torch.distributed as dist

    from trainables.trial.candidate_store import CandidateStore

    store = CandidateStore(str(out), pafs.LocalFileSystem())
    rank = dist.get_rank()

    def report(metrics: dict, folder: str | None) -> None:
        reports[metrics[STEP]] = metrics
        if folder:
            if rank == 0:
                store.publish(folder, metrics[STEP])
            shutil.rmtree(folder, ignore_errors=True)
        if rank == 0:
            # One line of at most 77 characters: whole at 80 columns.
            say(f"{time.monotonic() - started:6.0f}s step {metrics[STEP]:>5} val_loss "
                f"{metrics[VAL_LOSS]:.4f} train_loss {metrics[TRAIN_EVAL_LOSS]:.4f} gap "
                f"{metrics[GAP]:+.4f} best {metrics[BEST_OBJECTIVE]:.4f}")

    return report


def _candidate(out: Path, step: int) -> Path:
    from trainables.contract import CANDIDATES_FOLDER, candidate_name

    return out / CANDIDATES_FOLDER / candidate_name(step)
