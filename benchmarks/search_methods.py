"""The four search methods of the search-efficiency benchmark, each as a user would run it.

Each takes the benchmark's validated sweep spec and a scratch folder and returns what it chose
and what it spent: ``chosen`` (hyperparameters), ``chosen_sweep_objective`` (its objective as
the method saw it), ``steps`` (optimizer steps trained over all trials), ``trials`` and
``stopped`` (trials stopped early, by reason). basin and random search also return
``choices``: the checkpoint each selection criterion hands on, scored as it is.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Callable

from search.spec.model import SweepSpec

Method = Callable[[SweepSpec, Path], dict[str, Any]]


# The selection criteria compared on the same basin runs (no extra search compute), fixed
# before any run. "completed only" is how basin chose before checkpoints became candidates:
# the best checkpoint of the best trial that trained its whole budget.
def _criteria() -> dict[str, tuple[Any, Any]]:
    from search.selection import MaxGapCriterion, ObjectiveCriterion, OneStandardErrorCriterion

    return {
        "objective": (ObjectiveCriterion(), None),
        "one-se": (OneStandardErrorCriterion(), None),
        "max-gap 0.25": (MaxGapCriterion(max_gap=0.25), None),
        "completed only": (ObjectiveCriterion(), lambda c: c.trial_outcome == "completed"),
    }


def _basin_sweep(spec: SweepSpec, criteria: bool = True) -> dict[str, Any]:
    """Run the spec through basin's own sweep and choose as ``basin best`` does.

    ``choices`` holds, for every criterion compared, the checkpoint it hands on (trial, step,
    hyperparameters and the checkpoint folder, which the benchmark scores on the test split);
    ``chosen`` is the sweep's own criterion's.
    """
    import ray

    from search.lifecycle.run import run_trials
    from search.store.reading import RunReading
    from search.store.rundir import RunDir

    run = RunDir.create(spec)
    run_trials(spec, run, quiet=True)
    ray.shutdown()
    reading = RunReading(run)
    records = reading.records
    compared = {"sweep": (None, None)} | (_criteria() if criteria else {})
    choices = {}
    for name, (criterion, keep) in compared.items():
        choice = reading.choice(criterion=criterion, keep=keep)
        chosen = choice.chosen
        choices[name] = None if chosen is None else {
            "params": chosen.params, "step": chosen.step, "trial_id": chosen.trial_id,
            "checkpoint": chosen.checkpoint, "sweep_objective": chosen.objective,
            "why": choice.why}
    optuna_states = Counter(t.state.name for t in run.study().trials)
    stopped = Counter(r.outcome.kind for r in records if r.outcome.status != "completed")
    chosen = choices["sweep"]
    return {"chosen": chosen["params"] if chosen else None,
            "chosen_sweep_objective": chosen["sweep_objective"] if chosen else None,
            "choices": choices, "criterion": spec.selection.criterion,
            "steps": sum(r.last_step or 0 for r in records), "trials": len(records),
            "stopped": dict(stopped), "optuna_states": dict(optuna_states),
            "run_dir": str(run.path)}


def random_full_budget(spec: SweepSpec, work_dir: Path) -> dict[str, Any]:
    """Random search; no scheduler, no stopping rules: every trial trains its whole budget.
    Chosen: the checkpoint with the best validation loss of any trial and step."""
    from search.selection import ObjectiveCriterion
    from search.stopping import StoppingSpec

    spec = spec.model_copy(deep=True)
    spec.search.sampler = "random"
    spec.scheduler.type = "fifo"
    spec.stopping = StoppingSpec.off()
    spec.selection = ObjectiveCriterion()
    return _basin_sweep(spec, criteria=False)


def basin(spec: SweepSpec, work_dir: Path) -> dict[str, Any]:
    """basin as shipped: TPE told each trial's outcome + ASHA + the sweep file's stopping
    rules, and its selection criterion (every other criterion re-scored on the same run)."""
    return _basin_sweep(spec)


def basin_freeze(spec: SweepSpec, work_dir: Path) -> dict[str, Any]:
    """basin with the replay's winning scheduler (issue 30, RESULTS.md section 6): a rung's
    losers frozen, not stopped (first rung at a quarter of the budget, the best third on), and
    thawed best-first while the sweep's step budget, half of random search's, lasts."""
    spec = spec.model_copy(deep=True)
    spec.scheduler.type = "freeze"
    spec.scheduler.grace_period = spec.training.max_steps // 4
    spec.scheduler.reduction_factor = 3
    spec.scheduler.thaw = "rank"
    spec.search.max_total_steps = "50%"  # of num_trials x max_steps, as a sweep file says it
    return _basin_sweep(spec)


def ray_optuna_asha(spec: SweepSpec, work_dir: Path) -> dict[str, Any]:
    """Ray Tune's OptunaSearch + ASHAScheduler on basin's trainable: the training code and the
    ASHA rungs are basin's, the search loop is Ray's (stopped trials reach Optuna as
    COMPLETE with their last value, and there is no gap rule)."""
    import ray
    from ray import tune
    from ray.tune.search.optuna import OptunaSearch

    from search.sampling.space import split_space
    from search.tune.cluster import start_ray
    from search.tune.optuna_search import make_sampler
    from search.tune.tuner import make_scheduler, make_trainable

    distributions, constants = split_space(spec.space)
    if constants:
        raise ValueError("the benchmark's space has no constants")
    start_ray()
    searcher = OptunaSearch(
        space=distributions, metric=spec.objective.metric, mode=spec.objective.mode,
        # The same TPE settings basin uses, so the comparison is about feedback and pruning.
        sampler=make_sampler("tpe", spec.search.seed, spec.search.num_trials),
    )
    tuner = tune.Tuner(
        make_trainable(spec),
        tune_config=tune.TuneConfig(
            search_alg=searcher, scheduler=make_scheduler(spec),
            metric=spec.objective.metric, mode=spec.objective.mode,
            num_samples=spec.search.num_trials,
            max_concurrent_trials=spec.search.max_concurrent_trials,
        ),
        run_config=tune.RunConfig(
            name=f"ray-{spec.name}", storage_path=str(work_dir / "ray"), verbose=0,
            checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
        ),
    )
    grid = tuner.fit()
    best = grid.get_best_result()  # Ray's default: each trial's last reported result
    steps = [int(result.metrics.get("step") or 0) for result in grid]
    stopped = sum(step < spec.training.max_steps for step in steps)
    optuna_states = Counter(t.state.name for t in searcher._ot_study.trials)
    ray.shutdown()
    return {"chosen": {k: best.config[k] for k in distributions},
            "chosen_sweep_objective": best.metrics[spec.objective.metric],
            "steps": sum(steps), "trials": len(steps),
            "stopped": {"asha": stopped} if stopped else {},
            "optuna_states": dict(optuna_states)}


def _trainer_arguments(spec: SweepSpec, work_dir: Path) -> Any:
    """The Trainer's arguments for basin's schedule: the sweep's steps, batch, evaluations and
    seed, linear decay after one warm-up step, gradient clipping at 1, on the CPU."""
    from transformers import TrainingArguments

    training = spec.training
    return TrainingArguments(
        output_dir=str(work_dir / "hf"), max_steps=training.max_steps,
        per_device_train_batch_size=training.micro_batch_size,
        per_device_eval_batch_size=training.micro_batch_size * 2,
        eval_strategy="steps", eval_steps=training.eval_every, save_strategy="no",
        logging_strategy="no", report_to="none", lr_scheduler_type="linear", warmup_steps=1,
        max_grad_norm=1.0, seed=training.seed, use_cpu=True, disable_tqdm=True,
        remove_unused_columns=False,
    )


def hf_hyperparameter_search(spec: SweepSpec, work_dir: Path) -> dict[str, Any]:
    """transformers' Trainer.hyperparameter_search with Optuna; trials run one at a time in
    this process on all its CPUs. The model, LoRA, data and schedule are the same as basin's;
    the optimiser is the Trainer's AdamW with linear decay after one warm-up step, as basin's
    DeepSpeed config does. The pruner is Optuna's SuccessiveHalvingPruner with the ASHA rungs
    the other methods use."""
    import optuna
    import torch
    from transformers import Trainer, TrainerCallback

    from search.sampling.space import split_space
    from search.tune.optuna_search import make_sampler
    from trainables.models.lora import apply_lora
    from trainables.settings import Hyperparameters
    from trainables.tasks.classification.data import load_splits, make_collate
    from trainables.tasks.classification.model import load_base_model, load_tokenizer

    distributions, _ = split_space(spec.space)
    data = spec.data
    torch.set_num_threads(spec.search.max_concurrent_trials or 1)
    splits = load_splits(data, seed=data.demo.seed)
    tokenizer = load_tokenizer(spec.model)

    def model_init(trial: optuna.Trial | None) -> Any:
        hp = Hyperparameters(**(trial.params if trial is not None else {}))
        model = load_base_model(spec.model, len(splits.label_names), hp,
                                pad_token_id=tokenizer.pad_token_id)
        return apply_lora(model, spec.model, hp)

    def hp_space(trial: optuna.Trial) -> dict[str, Any]:
        return {name: _suggest(trial, name, distribution)
                for name, distribution in distributions.items()}

    class CountSteps(TrainerCallback):
        steps = 0

        def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001
            CountSteps.steps += 1

    trainer = Trainer(model_init=model_init, args=_trainer_arguments(spec, work_dir),
                      train_dataset=splits.train, eval_dataset=splits.validation,
                      data_collator=make_collate(tokenizer, data.max_length),
                      callbacks=[CountSteps()])
    storage = optuna.storages.InMemoryStorage()
    best = trainer.hyperparameter_search(
        hp_space=hp_space, backend="optuna", n_trials=spec.search.num_trials,
        direction="minimize", compute_objective=lambda metrics: metrics["eval_loss"],
        study_name="hf", storage=storage,
        sampler=make_sampler("tpe", spec.search.seed, spec.search.num_trials),
        pruner=optuna.pruners.SuccessiveHalvingPruner(
            min_resource=spec.scheduler.grace_period,
            reduction_factor=int(spec.scheduler.reduction_factor)),
    )
    trials = optuna.load_study(study_name="hf", storage=storage).trials
    optuna_states = Counter(t.state.name for t in trials)
    pruned = optuna_states.get("PRUNED", 0)
    return {"chosen": best.hyperparameters, "chosen_sweep_objective": best.objective,
            "steps": CountSteps.steps, "trials": len(trials),
            "stopped": {"pruner": pruned} if pruned else {}, "optuna_states": dict(optuna_states)}


def _suggest(trial: Any, name: str, distribution: Any) -> Any:
    """Draw one value the way the sweep's Optuna distribution says, through the public API."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    if isinstance(distribution, CategoricalDistribution):
        return trial.suggest_categorical(name, distribution.choices)
    suggest = trial.suggest_float if isinstance(distribution, FloatDistribution) else \
        trial.suggest_int
    return suggest(name, distribution.low, distribution.high, step=distribution.step,
                   log=distribution.log)


METHODS: dict[str, Method] = {
    "random": random_full_budget,
    "ray": ray_optuna_asha,
    "hf": hf_hyperparameter_search,
    "basin": basin,
    "basin-freeze": basin_freeze,
    # Section 1's basin (ASHA) run again with the code basin-freeze ran with: the 2026-11-23
    # rows predate changes that move a trial's numbers (RESULTS.md section 6, the re-run).
    "basin-asha-again": basin,
}
# What the benchmark runs unless --methods says otherwise: section 1's four methods.
DEFAULT_METHODS = ("random", "ray", "hf", "basin")
