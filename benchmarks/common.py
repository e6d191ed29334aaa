"""What the benchmark scripts share: the two tasks, machine CPU time, test scoring, tables.

Benchmarks are scripts, not tests: each prints a table of figures, side by side against the
alternative, measured on one machine in one run, and writes the raw figures as JSON next to
``RESULTS.md``. Nothing here is imported by ``search/`` or ``trainables/``.
"""

from __future__ import annotations

import csv
import json
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterable

import psutil
from rich.console import Console
from rich.table import Table

from search.spec.model import SweepSpec

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
# Real text for benchmarks; it lives beside the project and is never copied into it.
SST2_TSV = PROJECT_DIR.parent / "shared" / "data" / "sst2" / "train.tsv"
DEFAULT_WORK_DIR = Path(tempfile.gettempdir()) / "basin-benchmarks"

console = Console(width=180)  # tables stay readable when output goes to a file
# A 2-layer BERT built from a config: the benchmarks' smoke runs train it in seconds.
SMOKE_MODEL = {
    "name": "tiny-bert",
    "random_init_config": {"model_type": "bert", "vocab_size": 30522, "hidden_size": 32,
                           "num_hidden_layers": 2, "num_attention_heads": 2,
                           "intermediate_size": 64, "max_position_embeddings": 128},
    "lora_target_modules": ["query", "value"],
}
# A 2-layer Llama with hidden size 32 and SmolLM2's vocabulary (it borrows that tokenizer): the
# causal-LM smoke runs' model, and the tests'.
SMOKE_LLAMA = {
    "model_type": "llama",
    "vocab_size": 49152,
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 128,
    "tie_word_embeddings": True,
}


def merge(base: dict, extra: dict) -> dict:
    """``base`` with ``extra`` laid over it, nested blocks merged key by key."""
    merged = dict(base)
    for key, value in extra.items():
        merged[key] = merge(base.get(key) or {}, value) if isinstance(value, dict) else value
    return merged


def carve_sst2(out_dir: Path, sizes: dict[str, int], seed: int = 0,
               source: Path = SST2_TSV) -> dict[str, str]:
    """Write disjoint random train/validation/test TSV files drawn from SST-2's training set.

    They go to a scratch folder outside the project. Returns {split: path}.
    """
    if not source.is_file():
        raise SystemExit(f"SST-2 not found at {source} (pass --sst2 PATH)")
    with source.open(newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    random.Random(seed).shuffle(rows)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths, start = {}, 0
    for split, size in sizes.items():
        path = out_dir / f"{split}.tsv"
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=["sentence", "label"], delimiter="\t",
                                    quoting=csv.QUOTE_NONE, escapechar="\\")
            writer.writeheader()
            for row in rows[start:start + size]:
                writer.writerow({"sentence": row["sentence"].strip(), "label": row["label"]})
        paths[split], start = str(path), start + size
    return paths


class MachineCpu:
    """CPU-seconds the whole machine spent (user + system, every process): Ray's daemons and
    worker processes are not children of the benchmark, so per-process counters miss them.
    Run benchmarks on an otherwise idle machine."""

    def __init__(self) -> None:
        self._start = self._now()

    @staticmethod
    def _now() -> float:
        times = psutil.cpu_times()
        return times.user + times.system + getattr(times, "nice", 0.0)

    def seconds(self) -> float:
        return self._now() - self._start


class Stopwatch:
    """Wall seconds and machine CPU-seconds of a block: ``with Stopwatch() as clock: ...``."""

    def __enter__(self) -> Stopwatch:
        self._cpu, self._start = MachineCpu(), time.perf_counter()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.wall_s = time.perf_counter() - self._start
        self.cpu_s = self._cpu.seconds()


def one_process_group() -> None:
    """A single-process gloo group, as a one-worker basin trial has, for calling its loop here.

    Made once per process and kept: DeepSpeed caches the groups it derives from the first one,
    so a second engine after a destroyed and re-created group would use dead groups.
    """
    import torch.distributed as dist

    from trainables.trial.entry import init_single_process_group

    if dist.is_initialized():
        return
    init_single_process_group("gloo")  # torn down at exit by init_single_process_group


def discard_checkpoint(metrics: dict, folder: str | None) -> None:
    """A ``report`` for basin's loop that keeps nothing (each evaluation hands over a folder)."""
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


def score_on_test(spec: SweepSpec, params: dict[str, Any], threads: int = 2) -> dict[str, float]:
    """Train one configuration with basin's loop (full budget, the sweep's seed) and score the
    best validation step's weights on the test split, which no search saw: for methods that
    name a configuration but keep no checkpoint of it (Ray's, HF's)."""
    from search.spec.model import trial_settings
    from trainables.recipe.loop import train
    from trainables.settings import Hyperparameters

    training = spec.training.model_copy(update={"threads_per_worker": threads})
    settings = trial_settings(spec).model_copy(update={"evaluate_test": "best_step",
                                                       "training": training})
    one_process_group()
    final = train(Hyperparameters(**params), settings, discard_checkpoint)
    return {"test_loss": final["test_loss"], "test_accuracy": final["test_accuracy"],
            "val_loss": final["best_objective"], "best_step": final["best_step"]}


def score_checkpoint_on_test(spec: SweepSpec, params: dict[str, Any], checkpoint: str,
                             threads: int = 2) -> dict[str, float]:
    """Score a checkpoint a method handed on (basin's choice, random search's best) on the test
    split, which no search saw: the weights scored are those an export ships."""
    import torch

    from search.spec.model import trial_settings
    from trainables.check.scoring import score_checkpoint
    from trainables.settings import Hyperparameters

    torch.set_num_threads(threads)
    test = score_checkpoint(Hyperparameters(**params), trial_settings(spec), checkpoint, "test")
    return {"test_loss": test["loss"], "test_accuracy": test["accuracy"]}


def run_missing(saved: dict[str, Any], key: str, names: list[str], seeds: list[int],
                measure: Callable[[str, int], dict], save: Callable[[], Any]) -> None:
    """Measure every (name, seed) that ``saved["runs"]`` lacks (``key`` names the name's field),
    saving after each: a long benchmark runs in pieces with ``--resume``, nothing lost."""
    for name in names:
        for seed in seeds:
            if any(r[key] == name and r["seed"] == seed for r in saved["runs"]):
                continue
            print(f"== {name} seed {seed}", flush=True)
            saved["runs"].append(measure(name, seed))
            save()


def median(values: Iterable[float]) -> float:
    values = list(values)
    return statistics.median(values) if values else float("nan")


def mean_sd(values: Iterable[float]) -> str:
    """``mean ± sd`` (sd over seeds; blank with one value)."""
    values = list(values)
    if not values:
        return "-"
    mean = statistics.fmean(values)
    if len(values) == 1:
        return f"{mean:.4f}"
    return f"{mean:.4f} ± {statistics.stdev(values):.4f}"


def print_table(title: str, header: list[str], rows: list[list[Any]]) -> str:
    """Print a rich table and return the same table as Markdown for RESULTS.md."""
    table = Table(title=title)
    for name in header:
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*[str(cell) for cell in row])
    console.print(table)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def save_json(name: str, payload: Any, directory: Path = RESULTS_DIR) -> Path:
    """Write raw figures to ``DIRECTORY/NAME.json`` (the tables are made from them); smoke runs
    write to their scratch folder, real runs to ``benchmarks/results/``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, default=str))
    return path


def machine_facts() -> dict[str, Any]:
    """What the figures were measured on."""
    import platform

    import torch

    return {"cpus": psutil.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30),
            "python": platform.python_version(), "torch": torch.__version__,
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
