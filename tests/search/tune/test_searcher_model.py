"""The searcher's own model of configurations (``search/tune/searcher_model.py``) and the
freezing scheduler's ``thaw: model`` order, which thaws by it."""

from __future__ import annotations

from types import SimpleNamespace

import optuna
import pytest
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.trial import TrialState, create_trial
from ray.tune.experiment import Trial

from search.store.freeze_ledger import FreezeLedger
from search.store.stop_ledger import StopLedger
from search.tune.freezing import FreezingScheduler
from search.tune.searcher_model import split_good, tpe_rating

SPACE = {"learning_rate": FloatDistribution(1e-5, 1e-1, log=True),
         "lora_r": IntDistribution(4, 16)}


def _study(sampler: optuna.samplers.BaseSampler | None = None) -> optuna.Study:
    """Finished trials: moderate learning rates ended best, fast and slow ones worse; one
    trial was pruned at its first rung."""
    study = optuna.create_study(sampler=sampler or optuna.samplers.TPESampler(seed=0))
    for lr, r, loss in [(1.5e-3, 8, 0.30), (2e-3, 4, 0.32), (2e-2, 8, 0.60), (5e-2, 16, 0.70),
                        (3e-2, 4, 0.65), (1e-5, 8, 0.69), (3e-5, 16, 0.68), (6e-2, 8, 0.72),
                        (2.5e-2, 16, 0.62), (1e-4, 4, 0.66), (8e-2, 4, 0.75), (4e-5, 8, 0.69)]:
        study.add_trial(create_trial(params={"learning_rate": lr, "lora_r": r},
                                     distributions=SPACE, value=loss))
    study.add_trial(create_trial(params={"learning_rate": 9e-2, "lora_r": 4},
                                 distributions=SPACE, state=TrialState.PRUNED,
                                 intermediate_values={30: 0.9}))
    return study


def test_tpe_rates_a_configuration_near_the_good_trials_above_one_near_the_rest() -> None:
    near_good, near_rest = {"learning_rate": 1.7e-3, "lora_r": 8}, {"learning_rate": 4e-2,
                                                                     "lora_r": 8}
    rating = tpe_rating(_study(), SPACE, [near_good, near_rest])
    assert rating is not None and rating[0] > rating[1]


def test_the_good_group_is_split_as_tpe_splits_it() -> None:
    """Completed trials by their value first, pruned ones after them."""
    study = _study()
    good, rest = split_good(study, study.get_trials(), 2)
    assert [t.value for t in good] == [0.30, 0.32]
    assert rest[-1].state == TrialState.PRUNED and len(rest) == 11


@pytest.mark.parametrize("case", ["random sampler", "one finished trial", "missing parameter",
                                  "two objectives"])
def test_no_model_to_ask_rates_nothing(case: str) -> None:
    study = _study(optuna.samplers.RandomSampler(seed=0)) if case == "random sampler" else _study()
    config = {"learning_rate": 1e-3, "lora_r": 8}
    if case == "one finished trial":
        study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
        study.add_trial(create_trial(params=config, distributions=SPACE, value=0.5))
    if case == "missing parameter":
        config = {"learning_rate": 1e-3}
    if case == "two objectives":  # search.multi_objective: TPE's ratio means something else
        study = optuna.create_study(directions=["minimize"] * 2)
        for trial in _study().trials:
            study.add_trial(create_trial(params=trial.params, distributions=SPACE,
                                         values=[trial.value or 0.9, 0.1]))
    assert tpe_rating(study, SPACE, [config]) is None


def _frozen(trial_id: str, lr: float, loss: float) -> Trial:
    trial = Trial("t", config={"learning_rate": lr, "lora_r": 8, "max_steps": 120},
                  trial_id=trial_id, stub=True)
    trial.update_last_result({"val_loss": loss, "step": 30, "training_iteration": 1})
    trial.set_status(Trial.PAUSED)
    return trial


@pytest.mark.parametrize("rated", [True, False])
def test_the_model_order_thaws_what_the_searcher_rates_best(rated: bool) -> None:
    """The fast starter (4e-2) was better at the rung than the slow one (1.7e-3); the model,
    which saw moderate learning rates end best, thaws the slow one first. With no model yet
    (a rating of None) the order is the rung's."""
    study = _study()
    freezes = FreezeLedger()
    scheduler = FreezingScheduler(
        max_t=120, grace_period=30, reduction_factor=3, freezes=freezes, stops=StopLedger(),
        slots=1, thaw="model",
        rate=(lambda configs: tpe_rating(study, SPACE, configs)) if rated else lambda _: None)
    scheduler.set_search_properties("val_loss", "min")
    fast, slow = _frozen("fast", 4e-2, 0.55), _frozen("slow", 1.7e-3, 0.69)
    for trial in (fast, slow):
        freezes.rung(trial.trial_id, 30, trial.last_result["val_loss"])
        freezes.freeze(trial.trial_id, 30, "test")
    controller = SimpleNamespace(get_trials=lambda: [fast, slow],
                                 search_alg=SimpleNamespace(is_finished=lambda: True))
    chosen = scheduler.choose_trial_to_run(controller)
    assert chosen is (slow if rated else fast)
    reason = freezes.history(chosen.trial_id)[-1].reason
    assert ("likeliest good of 2 frozen" in reason) is rated
    assert rated or "no model yet" in reason


def test_a_sweep_wires_its_searcher_into_the_model_order(sweep_factory, tmp_path) -> None:
    from search.lifecycle.decisions import decisions, study_ref
    from search.spec.model import load_spec

    spec = load_spec(sweep_factory(scheduler={"type": "freeze", "thaw": "model",
                                                        "grace_period": 4}))
    decided = decisions(spec, study_ref(spec, "wired", tmp_path, in_memory=True), StopLedger())
    assert decided.scheduler.rate == decided.searcher.rate
