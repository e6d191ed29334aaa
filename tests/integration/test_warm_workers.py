"""Warm workers: a trial on a reused process computes exactly what it computes in a fresh one.

Nine trials run one after another on one slot with warm workers (one process runs them all);
the two configurations among them that train to the end run again without (a fresh process
each). The configuration trained five times (first, after a trial with another rank, dropout
and weight decay, after a diverged trial, after a trial stopped mid-run inside ``tune.report``,
after a trial that failed with an error) must report bit-identical losses at every evaluation,
on the warm worker as in its fresh process; so must the other configuration.
The base model is a real pretrained folder, so the kept weights (trainables/warm.py) are used.
"""

from __future__ import annotations

from pathlib import Path

from ray import tune

from search.spec.model import load_spec
from search.store.rundir import RunDir
from search.tune.tuner import build_tuner, fit, make_trainable
from tests.conftest import refused_when
from trainables.contract import OUTCOME, OUTCOME_DIVERGED, OUTCOME_FAILED

HEALTHY = 0.01
DIVERGING = 1e30  # its weights blow up to NaN: the trial ends as diverged
STOPPED = 0.02  # stopped by the stopper at its first evaluation
FAILING = 0.03  # raises before it trains (a hyperparameter its settings refuse)
OTHER = 0.015  # trains with another rank, dropout and weight decay: none of it may leak
ORDER = [HEALTHY, OTHER, HEALTHY, DIVERGING, HEALTHY, STOPPED, HEALTHY, FAILING, HEALTHY]
COMPARED = ["step", "val_loss", "train_eval_loss", "train_loss", "val_accuracy"]


class StopMarked(tune.Stopper):
    """Stops the trial with the marked learning rate at its first report."""

    def __call__(self, trial_id: str, result: dict) -> bool:
        return result["config"]["learning_rate"] == STOPPED

    def stop_all(self) -> bool:
        return False


def run_in_order(sweep_factory, sections: dict, order: list[float], warm: bool) -> list:
    """The trials, one learning rate each, on one slot; their results in the order they ran
    (Tune creates a grid's trials in the list's order and numbers their ids so)."""
    spec = load_spec(sweep_factory(
        filename=f"warm-{warm}.yaml", **sections,
        search={"num_trials": 1, "max_concurrent_trials": 1, "seed": 0},
        resources={"warm_workers": warm},
        tracking={"wandb": {"mode": "disabled"}}))
    run = RunDir.create(spec)
    tuner = build_tuner(
        spec, run, name=run.path.name, trainable=make_trainable(
            spec, function=refused_when("learning_rate", FAILING, {"lora_alpha": -1})),
        stopper=StopMarked(),
        param_space={"learning_rate": tune.grid_search(order),
                     "lora_r": tune.sample_from(lambda s: 8 if s.config.learning_rate == OTHER
                                                else 2),
                     "lora_dropout": tune.sample_from(
                         lambda s: 0.3 if s.config.learning_rate == OTHER else 0.1),
                     "weight_decay": tune.sample_from(
                         lambda s: 0.1 if s.config.learning_rate == OTHER else 0.01)})
    return sorted(fit(tuner, run), key=lambda result: result.metrics["trial_id"])


def history(result) -> list[tuple]:
    return [tuple(row) for row in result.metrics_dataframe[COMPARED].itertuples(index=False)]


def first(result, column: str):
    return result.metrics_dataframe[column].iloc[0]


def test_a_warm_worker_trains_bit_for_bit_like_fresh_processes(sweep_factory, tiny_pretrained):
    base = {"model": {"name": str(tiny_pretrained), "lora_target_modules": ["query", "value"]}}
    warm = run_in_order(sweep_factory, base, ORDER, warm=True)
    # The fresh twins of the two configurations that train to the end (how a diverged, a
    # stopped and a failed trial end is the same whatever their process: test_resilience).
    fresh = dict(zip((HEALTHY, OTHER), run_in_order(sweep_factory, base, [HEALTHY, OTHER],
                                                     warm=False)))
    trained = [index for index, rate in enumerate(ORDER) if rate not in (DIVERGING, FAILING)]

    # One process ran every warm trial, the diverged one too; each fresh trial had its own.
    assert len({first(warm[i], "worker_pid") for i in trained}) == 1
    assert len({first(result, "worker_pid") for result in fresh.values()}) == 2
    assert [bool(first(warm[i], "warm_start")) for i in trained] == [False] + [True] * (len(trained) - 1)
    assert not any(bool(first(result, "warm_start")) for result in fresh.values())

    reference = history(fresh[HEALTHY])
    assert len(reference) == 3  # 12 steps, an evaluation every 4
    for index, rate in enumerate(ORDER):
        if rate == HEALTHY:  # first, and after each of the others
            assert history(warm[index]) == reference, index
    assert warm[ORDER.index(DIVERGING)].metrics[OUTCOME] == OUTCOME_DIVERGED
    failed = warm[ORDER.index(FAILING)]
    assert failed.metrics[OUTCOME] == OUTCOME_FAILED
    assert "Traceback" in (Path(failed.path) / "error.txt").read_text()
    # What each trial printed is in its own folder, on a reused process too.
    assert all((Path(result.path) / "trial.log").is_file() for result in warm)
    stopped = warm[ORDER.index(STOPPED)]
    assert list(stopped.metrics_dataframe["step"]) == [4]
    # The stopped trial's first evaluation is the healthy one's at a higher rate: not equal.
    assert history(stopped)[0] != reference[0]
    # The other configuration trained as it does in a fresh process, and differently.
    other = ORDER.index(OTHER)
    assert (warm[other].config["lora_r"], warm[other].config["lora_dropout"]) == (8, 0.3)
    assert history(warm[other]) == history(fresh[OTHER]) != reference


def test_a_warm_causal_lm_worker_keeps_its_base_weights_and_baseline_yet_trains_alike(
        sweep_factory, tiny_llama_folder):
    # The second trial finds the base weights and the baseline loss (a pass over the
    # validation split) kept by the first; its dropout masks must not notice.
    task = {"model": {"name": str(tiny_llama_folder), "task": "causal-lm",
                      "lora_target_modules": ["q_proj", "v_proj"]},
            "data": {"source": "demo", "demo": {"train_size": 32, "validation_size": 16,
                                                "test_size": 16, "label_noise": 0.2},
                     "system_prompt": "Be brief.", "max_length": 48, "train_eval_samples": 16},
            "training": {"max_steps": 8, "eval_every": 4, "micro_batch_size": 4}}
    compared = ["step", "val_loss", "train_eval_loss", "train_loss", "baseline_loss"]
    warm = run_in_order(sweep_factory, task, [HEALTHY, HEALTHY], warm=True)
    fresh = run_in_order(sweep_factory, task, [HEALTHY], warm=False)
    assert [bool(first(result, "warm_start")) for result in warm] == [False, True]
    reference = fresh[0].metrics_dataframe[compared].values.tolist()
    for result in warm:
        assert result.metrics_dataframe[compared].values.tolist() == reference
