"""One trial's fine-tuning recipe, top to bottom: data -> model + LoRA -> DeepSpeed -> train/eval.

It runs identically in every worker of a trial. The caller owns the process group and hands in
a ``report`` function; the loop never knows whether it runs inside a Tune function or a Ray
Train worker, nor which task it trains: the task (``trainables/tasks``) brings the model, the
data, the evaluation and the probe. ``train`` reads as the recipe: set up (``setup.py``), resume
if asked, then train, evaluating and reporting every ``eval_every`` steps.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import torch

from trainables.contract import (
    BASELINE_LOSS,
    BEST_OBJECTIVE,
    BEST_STEP,
    DRIFT_SECONDS,
    EPOCH,
    GAP,
    IS_FINAL,
    LEARNING_RATE,
    PROBE_PRECISION,
    RECIPE_HASH,
    SAMPLES_PER_SECOND,
    STARTUP_SECONDS,
    STEP,
    TOKENS_PER_SECOND,
    TOTAL_STEPS,
    TRAIN_LOSS,
    TRAIN_LOSS_CURVE,
    TRIAL_METRICS_FILE,
    VAL_LOSS_SE,
    WORLD_SIZE,
)
from trainables.evaluation import generators_untouched, is_better
from trainables.fingerprint import recipe_hash
from trainables.recipe.checkpoint import (
    load_checkpoint,
    restore_random_state,
    restore_trainable,
    save_checkpoint,
    snapshot_trainable,
)
from trainables.recipe.ds_config import resolve_precision
from trainables.recipe.setup import (
    Loaders,
    WorkerContext,
    endless,
    last_training_step,
    seed_everything,
    setup_data,
    setup_engine,
    total_optimizer_steps,
)
from trainables.settings import Hyperparameters, TrialSettings
from trainables.tasks import warm_task
from trainables.warm import trial_starts

# report(metrics, checkpoint_dir): every worker calls it at every evaluation with the same
# metrics and its own checkpoint folder (rank 0's holds the adapter).
Report = Callable[[dict, "str | None"], None]


class Diverged(FloatingPointError):
    """The training loss became NaN or infinite: the configuration diverged."""

    MESSAGE = "non-finite training loss"

    def __init__(self, loss: float, step: int):
        super().__init__(f"{self.MESSAGE} {loss} at step {step}")
        self.step = step


def _named(split: str, figures: dict) -> dict:
    """The figures as reported, ``val_loss``...; the standard error of validation only."""
    return {f"{split}_{name}": value for name, value in figures.items() if name != "loss_se"}


@dataclass
class Window:
    """What the steps since the last evaluation measured, for the next report."""

    losses: list[float] = field(default_factory=list)
    curve: list[list[float]] = field(default_factory=list)  # [step, mean micro-batch loss]
    samples: int = 0
    tokens: int = 0
    clock: float = field(default_factory=time.perf_counter)


@dataclass
class Best:
    """The best objective so far, its step, and its weights (to score the test split there)."""

    value: float | None = None
    step: int = 0
    weights: dict | None = None


def train(hp: Hyperparameters, settings: TrialSettings, report: Report,
          resume_from: str | None = None, started_at: float | None = None) -> dict:
    """Fine-tune with LoRA under DeepSpeed, evaluating and reporting every ``eval_every`` steps.
    ``resume_from`` is a checkpoint folder of this trial: training continues after its step.
    ``started_at`` (``time.time()``) is when the trial's process began its work; the reports
    say how long it took from there to the first optimizer step (imports, model load, DeepSpeed
    init). Returns the last reported metrics. Raises ``Diverged`` on a non-finite loss.
    """
    recipe = Recipe(hp, settings, report, time.time() if started_at is None else started_at)
    try:
        return recipe.run(resume_from)
    finally:
        recipe.close()


class Recipe:
    """One trial's run of the recipe; ``run`` is the whole of it."""

    def __init__(self, hp: Hyperparameters, settings: TrialSettings, report: Report,
                 started_at: float):
        self.hp, self.settings, self.report, self.started_at = hp, settings, report, started_at
        self.ctx = WorkerContext.from_process_group(settings.gpus_per_worker)
        training = settings.training
        torch.set_num_threads(training.threads_per_worker or max(1, int(settings.cpus_per_worker)))
        self.seed = hp.seed if hp.seed is not None else training.seed
        self.recipe_hash = recipe_hash(settings, hp)
        self.warm_start = trial_starts()
        # Data: a warm worker kept the task's splits from its earlier trials (trainables/warm.py).
        self.task = warm_task(settings)
        self.loaders: Loaders = setup_data(self.task, settings, self.ctx, self.seed)
        data = self.task.data  # said in trial.log: the splits as this trial sees them
        if self.ctx.rank == 0:
            print(f"data: {len(data.train)} train / {len(data.validation)} validation / "
                  f"{len(data.test)} test rows", flush=True)
        # Model: seeded here, after the data (read only by a fresh process), and nothing but
        # the trial's own model draws from here on (warm.py): a head, adapters, dropout and
        # batch order drawn the same way in a fresh process and a warm one.
        seed_everything(self.seed)
        total_steps = total_optimizer_steps(settings, len(self.task.data.train),
                                            self.ctx.world_size)
        self.last_step = last_training_step(settings, total_steps)
        self.engine = setup_engine(self.task, hp, settings, self.ctx, total_steps)
        self.best = Best()

    def close(self) -> None:
        # Its optimizer's hooks and buffers go with it: a warm worker's next trial starts clean.
        self.engine.destroy()

    def run(self, resume_from: str | None) -> dict:
        """Measure the baseline, resume if asked, then train to the last step."""
        # What a model that learned nothing scores: the "not learning" yardstick (for a causal
        # LM, the base model itself, measured here before the first step).
        self.baseline_loss = self.task.warm_baseline_loss(
            self.engine, self.loaders.eval["val"], self.ctx.device)
        done_steps = 0
        if resume_from is not None:
            state = load_checkpoint(self.engine, resume_from)
            self.best.value, self.best.step = state["best_value"], state[BEST_STEP]
            done_steps = state[STEP]
            if done_steps >= self.last_step:  # it had finished; only Tune missed the last word
                with open(os.path.join(resume_from, TRIAL_METRICS_FILE)) as handle:
                    metrics = json.load(handle)
                self.report(metrics, None)
                return metrics
            # The dropout masks it would have drawn had it never stopped (a paused trial, a
            # trial restarted after a crash continue their curve exactly).
            restore_random_state(resume_from, self.ctx.rank)
        return self.train_steps(done_steps)

    def train_steps(self, done_steps: int) -> dict:
        """Train from ``done_steps`` on, evaluating every eval_every steps and at the last."""
        accumulation = self.settings.training.gradient_accumulation
        batches = endless(self.loaders.train, skip=done_steps * accumulation)
        self.startup_seconds = time.time() - self.started_at
        window, metrics = Window(), {}
        self.engine.train()
        for step in range(done_steps + 1, self.last_step + 1):
            self.optimizer_step(step, batches, window)
            if step % self.settings.training.eval_every == 0 or step == self.last_step:
                metrics = self.evaluate_and_report(step, window)
                window = Window()
        return metrics

    def optimizer_step(self, step: int, batches: Iterator[dict], window: Window) -> None:
        """One optimizer step over ``gradient_accumulation`` micro-batches."""
        ctx, engine = self.ctx, self.engine
        step_losses = []
        for _ in range(self.settings.training.gradient_accumulation):
            inputs = {key: value.to(ctx.device) for key, value in next(batches).items()}
            loss = engine(**inputs).loss
            if not torch.isfinite(loss):
                raise Diverged(loss.item(), step)
            engine.backward(loss)
            engine.step()  # DeepSpeed only steps the optimizer at the accumulation boundary
            step_losses.append(loss.item())
            window.samples += inputs["input_ids"].shape[0] * ctx.world_size
            window.tokens += int(inputs["attention_mask"].sum()) * ctx.world_size
        window.losses += step_losses
        window.curve.append([step, sum(step_losses) / len(step_losses)])

    def evaluate_and_report(self, step: int, window: Window) -> dict:
        """Evaluate, save the step's checkpoint (every rank: under ZeRO-3 the probe and the
        save are collective) and report; the test split too when asked."""
        train_seconds = time.perf_counter() - window.clock
        metrics = self.evaluation(step, window, train_seconds)
        improved = is_better(metrics[self.settings.objective_metric], self.best.value,
                             self.settings.objective_mode)
        if improved:
            self.best.value, self.best.step = metrics[self.settings.objective_metric], step
        metrics[BEST_OBJECTIVE] = self.best.value if self.best.value is not None else math.nan
        metrics[BEST_STEP] = self.best.step
        # The precision goes with the probe: an export re-computes it in fp32 and allows for
        # the rounding of what the trial computed in (search/report/export/verify.py).
        probe = {**self.task.probe(self.engine, self.ctx.device),
                 PROBE_PRECISION: resolve_precision(self.settings.training.precision,
                                                   self.ctx.device.type == "cuda")}
        trainer_state = {STEP: step, "best_value": self.best.value, BEST_STEP: self.best.step}
        checkpoint = save_checkpoint(self.engine, metrics, probe, trainer_state, self.ctx.rank,
                                     self.settings.deepspeed.zero_stage)
        self.test_once(step, improved, metrics)
        self.report(metrics, checkpoint)
        return metrics

    def evaluation(self, step: int, window: Window, train_seconds: float) -> dict[str, Any]:
        """The report of an evaluation at ``step`` (every name in ``trainables.contract``)."""
        training, ctx = self.settings.training, self.ctx
        train_eval, val = self.measure("train_eval"), self.measure("val")
        return {
            STEP: step,
            TOTAL_STEPS: self.last_step,
            EPOCH: step * training.micro_batch_size * training.gradient_accumulation
            * ctx.world_size / len(self.task.data.train),
            TRAIN_LOSS: sum(window.losses) / len(window.losses),
            **_named("train_eval", train_eval),
            **_named("val", val),
            VAL_LOSS_SE: val["loss_se"],
            **self.task.data.facts,
            BASELINE_LOSS: self.baseline_loss,
            GAP: val["loss"] - train_eval["loss"],
            LEARNING_RATE: self.engine.get_lr()[0],
            SAMPLES_PER_SECOND: window.samples / train_seconds,
            TOKENS_PER_SECOND: window.tokens / train_seconds,
            IS_FINAL: step == self.last_step,
            WORLD_SIZE: ctx.world_size,
            STARTUP_SECONDS: self.startup_seconds,
            RECIPE_HASH: self.recipe_hash,
            "warm_start": self.warm_start,
            "worker_pid": os.getpid(),  # trials of one warm worker share it
            # Wall-clock stamps (not Ray's whole-second `timestamp`) for slot-occupancy figures.
            "trial_started_at": self.started_at,
            "reported_at": time.time(),
            TRAIN_LOSS_CURVE: window.curve,
            **self.retention(),
            **self.test_at_every_evaluation(),
        }

    def measure(self, name: str) -> dict:
        return self.task.evaluate(self.engine, self.loaders.evaluated[name],
                                  self.loaders.eval[name], self.ctx.device)

    def retention(self) -> dict[str, float]:
        """How far the model moved from its base on general inputs (``drift``), and what that
        took; it draws nothing from the trial's random generators (its curve stays the same
        whether or not it is measured)."""
        retention = self.settings.retention
        if not retention.enabled:
            return {}
        clock = time.perf_counter()
        with generators_untouched(self.ctx.device):
            figures = self.task.retention(self.engine, retention.samples, self.ctx.device)
        return {**figures, DRIFT_SECONDS: time.perf_counter() - clock}

    def test_at_every_evaluation(self) -> dict[str, float]:
        """Learning-curve tables (benchmarks/curve_tables.py): the test split at every
        evaluation, for scoring what a replayed search hands on; no search reads it."""
        if self.loaders.test is None or self.settings.evaluate_test != "every_evaluation":
            return {}
        clock = time.perf_counter()
        figures = self.task.evaluate_test(self.engine, self.loaders.test, self.ctx.device)
        return {**_named("test", figures), "test_seconds": time.perf_counter() - clock}

    def test_once(self, step: int, improved: bool, metrics: dict) -> None:
        """The test split once, at the last step, on the weights a recipe hands on: the best
        step's (``evaluate_test: best_step``) or the last (``last_step``)."""
        when = self.settings.evaluate_test
        if self.loaders.test is None or when == "every_evaluation":
            return
        if improved and when == "best_step":
            self.best.weights = snapshot_trainable(self.engine.module)
        if step == self.last_step:
            if self.best.weights is not None:
                restore_trainable(self.engine.module, self.best.weights)
            metrics.update(_named("test", self.task.evaluate_test(
                self.engine, self.loaders.test, self.ctx.device)))
