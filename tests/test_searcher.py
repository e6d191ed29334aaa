"""The searcher tells a real Optuna study the truth about each trial (no mocks, no Ray run)."""

from __future__ import annotations

import pickle

import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState

from search.searcher import REASON_ATTR, STATUS_ATTR, HonestOptunaSearch, StudyRef
from search.space import split_space
from search.spec import load_spec
from search.stops import StopLedger


@pytest.fixture
def searcher(tmp_path):
    ref = StudyRef(name="s", run_dir=tmp_path, storage_url=None, sampler="tpe", seed=0,
                   num_trials=6, direction="minimize")
    distributions = {"learning_rate": FloatDistribution(1e-4, 1e-2, log=True),
                     "lora_r": CategoricalDistribution([4, 8])}
    return HonestOptunaSearch(ref, distributions, {"lora_dropout": 0.1},
                              StopLedger(tmp_path / "stops.jsonl"), "val_loss", "min")


def result(step, val_loss, best, final=False):
    return {"step": step, "val_loss": val_loss, "best_objective": best, "is_final": final}


def test_suggest_merges_constants(searcher):
    config = searcher.suggest("a")
    assert config["lora_dropout"] == 0.1
    assert 1e-4 <= config["learning_rate"] <= 1e-2 and config["lora_r"] in (4, 8)


def test_completed_trial_is_told_its_best_objective_not_its_last(searcher):
    searcher.suggest("a")
    searcher.on_trial_result("a", result(10, 0.7, 0.7))
    searcher.on_trial_result("a", result(20, 0.5, 0.5))
    searcher.on_trial_complete("a", result(30, 0.6, 0.5, final=True))
    trial = searcher.study.trials[0]
    assert trial.state == TrialState.COMPLETE
    assert trial.value == 0.5
    assert trial.intermediate_values == {10: 0.7, 20: 0.5, 30: 0.6}
    assert trial.user_attrs[STATUS_ATTR] == "completed"


def test_gap_stopped_trial_is_pruned_with_its_reason_and_curve(searcher):
    searcher.suggest("a")
    searcher.on_trial_result("a", result(10, 0.6, 0.6))
    searcher.ledger.record("a", "gap 0.42 > 0.30 for 2 evals (step 20)")
    # Ray hands the result that triggered the stop only to on_trial_complete.
    searcher.on_trial_complete("a", result(20, 0.9, 0.6))
    trial = searcher.study.trials[0]
    assert trial.state == TrialState.PRUNED
    assert trial.intermediate_values == {10: 0.6, 20: 0.9}
    assert trial.user_attrs[REASON_ATTR].startswith("gap 0.42")


def test_gap_stop_at_the_last_step_is_still_pruned(searcher):
    searcher.suggest("a")
    searcher.ledger.record("a", "gap 0.5 > 0.30 for 2 evals (step 30)")
    searcher.on_trial_complete("a", result(30, 0.9, 0.6, final=True))
    assert searcher.study.trials[0].state == TrialState.PRUNED


def test_scheduler_stopped_trial_is_pruned_not_completed(searcher):
    searcher.suggest("a")
    searcher.on_trial_complete("a", result(10, 0.8, 0.8))
    trial = searcher.study.trials[0]
    assert trial.state == TrialState.PRUNED
    assert trial.user_attrs[REASON_ATTR].startswith("asha")


def test_errored_trial_is_failed(searcher):
    searcher.suggest("a")
    searcher.on_trial_complete("a", None, error=True)
    assert searcher.study.trials[0].state == TrialState.FAIL


def test_study_persists_and_searcher_survives_pickling(searcher, tmp_path):
    searcher.suggest("a")
    searcher.suggest("b")
    searcher.on_trial_complete("a", result(10, 0.5, 0.5, final=True))
    copy = pickle.loads(pickle.dumps(searcher))
    copy.on_trial_result("b", result(10, 0.4, 0.4))
    copy.on_trial_complete("b", result(20, 0.3, 0.3, final=True))
    states = [t.state for t in copy.study_ref.open().trials]
    assert states == [TrialState.COMPLETE, TrialState.COMPLETE]
    assert (tmp_path / "optuna.journal").stat().st_size > 0


def test_space_translation(sweep_factory):
    spec = load_spec(sweep_factory(space={
        "learning_rate": {"type": "float", "low": 1e-5, "high": 1e-2, "log": True},
        "weight_decay": {"type": "float", "low": 0.0, "high": 0.1},
        "lora_alpha": {"type": "int", "low": 8, "high": 32, "step": 8},
        "lora_r": {"type": "choice", "values": [4, 8, 16]},
        "lora_dropout": 0.05,
    }))
    distributions, constants = split_space(spec.space)
    assert distributions["learning_rate"] == FloatDistribution(1e-5, 1e-2, log=True)
    assert distributions["weight_decay"] == FloatDistribution(0.0, 0.1)
    assert distributions["lora_alpha"].step == 8 and distributions["lora_alpha"].high == 32
    assert distributions["lora_r"] == CategoricalDistribution([4, 8, 16])
    assert constants == {"lora_dropout": 0.05}


def test_an_rdb_url_from_the_sweep_file_is_used_as_the_study_storage(tmp_path):
    # The sweep's search.storage: here SQLite, on a cluster e.g. postgresql://...
    url = f"sqlite:///{tmp_path / 'study.db'}"
    ref = StudyRef(name="s", run_dir=tmp_path, storage_url=url, sampler="random", seed=0,
                   num_trials=2, direction="maximize")
    search = HonestOptunaSearch(ref, {"lora_r": CategoricalDistribution([4, 8])}, {},
                                StopLedger(), "val_accuracy", "max")
    search.suggest("a")
    search.on_trial_complete("a", {"step": 4, "val_accuracy": 0.7, "best_objective": 0.7,
                                   "is_final": True})
    assert (tmp_path / "study.db").is_file() and not (tmp_path / "optuna.journal").exists()
    assert ref.open().best_value == 0.7
