"""The searcher tells a real Optuna study the truth about each trial (no mocks, no Ray run)."""

from __future__ import annotations

import pickle

import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.study import StudyDirection
from optuna.trial import TrialState

from search.core.outcome import ORPHANED, PRUNED, STOPPED, Outcome
from search.sampling.space import split_space
from search.spec.model import load_spec
from search.store.stop_ledger import StopLedger
from search.store.study import AT_BEST_ATTRS, GAP_AT_BEST_ATTR, STATUS_ATTR, told_outcome
from search.tune.optuna_search import HonestOptunaSearch, StudyRef
from trainables.contract import DRIFT


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


def gap_stop(step: int) -> Outcome:
    return Outcome(STOPPED, "gap", f"overfitting: ... (step {step})", step)


def test_gap_stopped_trial_is_complete_with_its_best_objective_and_outcome(searcher):
    searcher.suggest("a")
    searcher.on_trial_result("a", result(10, 0.6, 0.6) | {"best_step": 10, "gap": 0.05,
                                                         "drift": 0.02})
    searcher.ledger.record("a", gap_stop(30))
    # Ray hands the result that triggered the stop only to on_trial_complete.
    searcher.on_trial_complete("a", result(30, 0.9, 0.6) | {"best_step": 10, "gap": 0.4,
                                                           "drift": 0.3})
    trial = searcher.study.trials[0]
    assert trial.state == TrialState.COMPLETE and trial.value == 0.6
    assert trial.intermediate_values == {10: 0.6, 30: 0.9}
    assert told_outcome(trial) == gap_stop(30)
    assert trial.user_attrs[STATUS_ATTR] == "stopped" and trial.user_attrs["basin_kind"] == "gap"
    assert trial.user_attrs[GAP_AT_BEST_ATTR] == 0.05  # the gap at the step it is told for
    assert trial.user_attrs[AT_BEST_ATTRS[DRIFT]] == 0.02  # the handed-on checkpoint's drift
    assert not trial.constraints  # a large gap must not push it out of TPE's good group


def test_gap_stop_at_the_last_step_is_a_stop_not_a_completion(searcher):
    searcher.suggest("a")
    searcher.ledger.record("a", gap_stop(30))
    searcher.on_trial_complete("a", result(30, 0.9, 0.6, final=True))
    assert told_outcome(searcher.study.trials[0]).status == "stopped"


def test_not_learning_trial_is_pruned_and_excluded(searcher):
    searcher.suggest("a")
    searcher.on_trial_result("a", result(10, 0.7, 0.7))
    searcher.ledger.record("a", Outcome(PRUNED, "not-learning", "not learning: ...", 10,
                                        excluded=True))
    searcher.on_trial_complete("a", result(10, 0.7, 0.7))
    trial = searcher.study.trials[0]
    assert trial.state == TrialState.PRUNED
    assert told_outcome(trial) == Outcome(PRUNED, "not-learning", "not learning: ...", 10, True)


def test_scheduler_stopped_trial_is_pruned_not_completed(searcher):
    searcher.suggest("a")
    searcher.on_trial_complete("a", result(10, 0.8, 0.8))
    trial = searcher.study.trials[0]
    assert trial.state == TrialState.PRUNED
    assert told_outcome(trial) == Outcome(PRUNED, "asha", "below its rung's cut-off", 10)


def test_a_trial_ray_ended_on_a_fault_is_left_for_resume_to_continue(searcher, tmp_path):
    """Ray's error (a fault of the machine with its retries spent: the trial's own errors are
    reported, not raised) is not a verdict on the configuration: the trial stays untold, is
    not orphaned and re-queued by a resume (Ray continues it there: resume_errored), and is
    told once, when it really ends. (A sweep that ends with it tells it FAIL: tell_faults.)"""
    searcher.suggest("a")
    searcher.on_trial_complete("a", None, error=True)
    assert searcher.study.trials[0].state == TrialState.RUNNING
    snapshot = tmp_path / "searcher.pkl"
    searcher.save(str(snapshot))
    resumed = HonestOptunaSearch.__new__(HonestOptunaSearch)
    resumed.restore(str(snapshot))
    resumed.adopt_ray_trials({"a"}, {"a"})  # Ray runs it again (resume_errored)
    assert len(resumed.study.trials) == 1  # not failed as an orphan, not queued again
    resumed.on_trial_result("a", result(10, 0.5, 0.5))
    resumed.on_trial_complete("a", result(20, 0.4, 0.4, final=True))
    (trial,) = resumed.study.trials
    assert trial.state == TrialState.COMPLETE and trial.value == 0.4
    assert trial.intermediate_values == {10: 0.5, 20: 0.4}


def test_diverged_and_raising_trials_say_so_in_their_outcome(searcher):
    searcher.suggest("a")
    searcher.suggest("b")
    searcher.on_trial_complete("a", {"step": 3, "outcome": "diverged",
                                     "outcome_reason": "non-finite training loss nan at step 3"})
    searcher.on_trial_complete("b", {"step": 0, "outcome": "failed",
                                     "outcome_reason": "RuntimeError: boom"})
    diverged, raised = searcher.study.trials
    assert diverged.state == TrialState.PRUNED
    assert told_outcome(diverged) == Outcome(PRUNED, "diverged",
                                             "non-finite training loss nan at step 3", 3, True)
    assert raised.state == TrialState.FAIL
    assert told_outcome(raised) == Outcome("failed", "error", "RuntimeError: boom", 0, True)


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


def test_a_searcher_pickled_by_basin_0_1_still_tells_the_gap_at_the_best_step(searcher):
    searcher.suggest("a")
    state = searcher.__getstate__()
    del state["_at_best"]
    state["_gap_at_best"] = {"a": 0.05}  # how basin 0.1 kept it
    old = HonestOptunaSearch.__new__(HonestOptunaSearch)
    old.__setstate__(state)
    old.on_trial_complete("a", result(10, 0.5, 0.5, final=True))
    assert old.study.trials[0].user_attrs[GAP_AT_BEST_ATTR] == 0.05


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


def test_tpe_puts_the_overfitting_trial_with_the_best_objective_in_its_good_group(tmp_path):
    """What the outcome design is for, checked on Optuna's own split of a real study: a trial
    stopped at step 40 because it began to overfit, with the best objective of all, lands in
    TPE's "good" group; told PRUNED (as ASHA's losers are), it would land among the bad."""
    from optuna.samplers._tpe.sampler import _split_trials, default_gamma

    def study_where(gap_stopped_as: str) -> list[str]:
        ref = StudyRef(name=gap_stopped_as, run_dir=tmp_path, storage_url=None, sampler="tpe",
                       seed=0, num_trials=10, direction="minimize")
        search = HonestOptunaSearch(ref, {"learning_rate": FloatDistribution(1e-4, 1e-2,
                                                                             log=True)},
                                    {}, StopLedger(), "val_loss", "min")
        curves = {  # trial: (its evaluations, how it ended)
            "overfit": ([0.6, 0.5, 0.55, 0.62], gap_stop(40)),
            "asha": ([0.52, 0.56], None),  # cut at its rung, step 20
            "not-learning": ([0.69, 0.7], Outcome(PRUNED, "not-learning", "", 20, True)),
            **{f"complete-{i}": ([0.7, 0.6 + i / 100] + [0.6 + i / 100] * 10, None)
               for i in range(7)},
        }
        for trial_id, (values, decision) in curves.items():
            search.suggest(trial_id)
            for step, value in enumerate(values[:-1], start=1):
                search.on_trial_result(trial_id, result(step * 10, value, min(values[:step])))
            if decision is not None:
                if gap_stopped_as == "pruned" and decision.kind == "gap":
                    decision = Outcome(PRUNED, "gap", "", decision.step)
                search.ledger.record(trial_id, decision)
            last = len(values) * 10
            search.on_trial_complete(trial_id, result(last, values[-1], min(values),
                                                      final=last == 120))
        trials = search.study.get_trials(deepcopy=False)
        below, _ = _split_trials(search.study, trials, default_gamma(len(trials)) + 1)
        return sorted(t.user_attrs["ray_trial_id"] for t in below)

    # 10 trials: TPE's gamma puts 1 trial in the good group; one more shows who comes next.
    assert study_where("stopped") == ["complete-0", "overfit"]
    assert study_where("pruned") == ["complete-0", "complete-1"]


@pytest.mark.parametrize("sampler", ["random", "tpe"])
def test_a_reopened_study_draws_new_configurations(tmp_path, sampler):
    """The sampler's random state is not stored; a resumed sweep must not replay its draws."""
    distributions = {"learning_rate": FloatDistribution(1e-4, 1e-2, log=True)}

    def draw(ref: StudyRef, count: int) -> list[float]:
        searcher = HonestOptunaSearch(ref, distributions, {}, StopLedger(tmp_path / "stops"),
                                      "val_loss", "min")
        drawn = []
        for index in range(count):
            drawn.append(searcher.suggest(f"{ref.name}-{index}")["learning_rate"])
            searcher.on_trial_complete(f"{ref.name}-{index}", result(10, 0.5, 0.5, final=True))
        return drawn

    ref = StudyRef(name="s", run_dir=tmp_path, storage_url=None, sampler=sampler, seed=0,
                   num_trials=12, direction="minimize")
    before = draw(ref, 3)
    after = draw(ref, 3)  # the same study, reopened as basin resume does
    assert not set(before) & set(after)
    again = StudyRef(name="t", run_dir=tmp_path / "again", storage_url=None, sampler=sampler,
                     seed=0, num_trials=12, direction="minimize")
    (tmp_path / "again").mkdir()
    assert draw(again, 3) == before and draw(again, 3) == after  # still reproducible


def test_a_configuration_ray_never_recorded_is_failed_as_orphaned_and_queued_again(searcher,
                                                                                  tmp_path):
    """docs/resilience.md, "Nothing lost": the driver asked Optuna for trial b, then died before Ray's next
    snapshot; on resume the searcher Ray saved (knowing a only) settles b as FAIL (orphaned) and
    the next trial asked for trains b's configuration."""
    searcher.suggest("a")
    snapshot = tmp_path / "searcher.pkl"
    searcher.save(str(snapshot))  # Ray's last experiment snapshot
    lost = searcher.suggest("b")  # asked for, never recorded by Ray

    resumed = HonestOptunaSearch.__new__(HonestOptunaSearch)
    resumed.restore(str(snapshot))
    resumed.adopt_ray_trials({"a"}, {"a"})  # Ray's state records a only
    orphan = resumed.study.trials[1]
    assert orphan.state == TrialState.FAIL and told_outcome(orphan).kind == ORPHANED
    assert resumed.study.trials[0].state == TrialState.RUNNING  # a: Ray resumes it
    again = resumed.suggest("c")
    assert {k: again[k] for k in ("learning_rate", "lora_r")} == \
        {k: lost[k] for k in ("learning_rate", "lora_r")}
    resumed.on_trial_complete("a", result(10, 0.5, 0.5, final=True))
    resumed.on_trial_complete("c", result(10, 0.4, 0.4, final=True))
    assert [t.state for t in resumed.study.trials] == [TrialState.COMPLETE, TrialState.FAIL,
                                                       TrialState.COMPLETE]


def test_a_kill_while_the_searcher_is_saved_leaves_the_last_whole_state(searcher, tmp_path,
                                                                        monkeypatch):
    """Ray rewrites the searcher's file at every snapshot; a driver killed mid-write must leave
    the previous state readable, or the resumed sweep cannot restore and starts over."""
    searcher.suggest("a")
    path = tmp_path / "searcher-state-session.pkl"
    searcher.save(str(path))

    def killed_mid_write(obj, handle, *args, **kwargs):
        handle.write(b"\x80\x05")  # the first bytes of a pickle, then the process is gone
        raise SystemExit("killed")

    searcher.suggest("b")
    monkeypatch.setattr(pickle, "dump", killed_mid_write)
    with pytest.raises(SystemExit):
        searcher.save(str(path))
    monkeypatch.undo()
    restored = HonestOptunaSearch.__new__(HonestOptunaSearch)
    restored.restore(str(path))  # the state of the first save: a is live, b an orphan
    assert set(restored._live) == {"a"}
    assert [p.name for p in tmp_path.glob("searcher-state-*.pkl")] == [path.name]


def test_the_searcher_counts_its_own_slots_and_a_faulted_trial_frees_its_own(searcher):
    """Ray's ConcurrencyLimiter forgets a trial that ended on an error, and then drops its
    completion after basin resume continued it: the searcher counts the slots itself."""
    assert searcher.set_max_concurrency(1) is True  # Ray then does not wrap it in a limiter
    assert searcher.suggest("a") is not None
    assert searcher.suggest("b") is None  # the one slot is taken
    searcher.on_trial_complete("a", None, error=True)  # parked for resume: its slot is free
    assert searcher.suggest("b") is not None
    searcher.on_trial_complete("b", result(10, 0.5, 0.5, final=True))
    assert searcher.suggest("c") is not None


@pytest.fixture
def two_objectives(tmp_path):
    """A searcher of a two-objective study (the objective and the drift), as basin 0.1's
    search.multi_objective made it: such a sweep still resumes as it was made."""
    ref = StudyRef(name="mo", run_dir=tmp_path, storage_url=None, sampler="tpe", seed=0,
                   num_trials=6, direction="minimize", second_direction="minimize")
    distributions = {"learning_rate": FloatDistribution(1e-4, 1e-2, log=True)}
    return HonestOptunaSearch(ref, distributions, {}, StopLedger(tmp_path / "stops.jsonl"),
                              "val_loss", "min")


def test_a_multi_objective_study_is_told_the_objective_and_the_drift_at_the_best_step(
        two_objectives):
    searcher = two_objectives
    searcher.suggest("a")
    searcher.on_trial_result("a", result(10, 0.6, 0.6) | {"best_step": 10, "drift": 0.02})
    searcher.on_trial_result("a", result(20, 0.5, 0.5) | {"best_step": 20, "drift": 0.07})
    searcher.on_trial_complete("a", result(30, 0.55, 0.5, final=True) | {"best_step": 20,
                                                                         "drift": 0.09})
    trial = searcher.study.trials[0]
    assert searcher.study.directions == [StudyDirection.MINIMIZE] * 2
    assert trial.state == TrialState.COMPLETE and trial.values == [0.5, 0.07]
    # Optuna takes no intermediate values in a multi-objective study.
    assert trial.intermediate_values == {}


def test_a_multi_objective_trial_without_a_drift_is_failed_but_keeps_its_candidates(
        two_objectives):
    searcher = two_objectives
    searcher.suggest("a")
    searcher.on_trial_complete("a", result(30, 0.5, 0.5, final=True) | {"best_step": 30})
    trial = searcher.study.trials[0]
    assert trial.state == TrialState.FAIL
    outcome = told_outcome(trial)
    assert outcome.reason == "no finite drift was reported" and not outcome.excluded


def test_a_multi_objective_study_reopens_with_both_directions(two_objectives):
    """basin resume unpickles the searcher, which reopens the study from its journal."""
    searcher = pickle.loads(pickle.dumps(two_objectives))
    assert len(searcher.study.directions) == 2


def test_a_study_in_memory_draws_as_a_stored_one_and_writes_nothing(tmp_path):
    """``StudyRef.in_memory`` (an extension point for sweeps nobody resumes or reads back: the
    replay benchmark's thousands): the same configurations as the study a run directory
    keeps, and no file."""
    distributions = {"learning_rate": FloatDistribution(1e-4, 1e-2, log=True)}

    def draw(ref: StudyRef) -> list[float]:
        searcher = HonestOptunaSearch(ref, distributions, {}, StopLedger(tmp_path / "stops"),
                                      "val_loss", "min")
        drawn = []
        for index in range(12):  # past TPE's random start-up
            drawn.append(searcher.suggest(f"t{index}")["learning_rate"])
            searcher.on_trial_complete(f"t{index}", result(10, drawn[-1] * 100, 0.5, final=True))
        return drawn

    stored, memory = tmp_path / "stored", tmp_path / "memory"
    stored.mkdir(), memory.mkdir()
    refs = [StudyRef(name="s", run_dir=folder, storage_url=None, sampler="tpe", seed=0,
                     num_trials=12, direction="minimize", in_memory=folder == memory)
            for folder in (stored, memory)]
    assert draw(refs[0]) == draw(refs[1])
    assert any(stored.iterdir()) and not any(memory.iterdir())
