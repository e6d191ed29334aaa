"""The searcher the tests of search/tune drive: a real Optuna study in a journal file."""

from __future__ import annotations

import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution

from search.store.stop_ledger import StopLedger
from search.tune.optuna_search import HonestOptunaSearch, StudyRef


@pytest.fixture
def searcher(tmp_path) -> HonestOptunaSearch:
    ref = StudyRef(name="s", run_dir=tmp_path, storage_url=None, sampler="tpe", seed=0,
                   num_trials=6, direction="minimize")
    distributions = {"learning_rate": FloatDistribution(1e-4, 1e-2, log=True),
                     "lora_r": CategoricalDistribution([4, 8])}
    return HonestOptunaSearch(ref, distributions, {"lora_dropout": 0.1},
                              StopLedger(tmp_path / "stops.jsonl"), "val_loss", "min")
