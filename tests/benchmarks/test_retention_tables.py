"""The multi-objective try's comparison (``benchmarks/retention_tables.py``, RESULTS.md 9b) on
hand-made runs: the pairing by seed, the front's size and the protocol's win condition."""

from __future__ import annotations

import pytest

from benchmarks.retention_tables import _front_of, mo_report


def _run(seed: int, objective_loss: float, retentive_loss: float, kept: float,
         multi: bool) -> dict:
    def choice(loss: float, held_out: float) -> dict:
        return {"test_loss": loss, "test_exact_match": 0.75, "held_out": held_out}

    run = {"sweep": "sft", "seed": seed, "reference": 0.6, "wall_s": 700.0,
           "choices": {"objective": choice(objective_loss, 0.45),
                       "retentive": choice(retentive_loss, kept * 0.6)}}
    if multi:
        return run | {"front": [{"objective": 0.4, "drift": 0.2}]}
    return run | _candidates([(0.4, 0.9), (0.5, 0.1), (0.6, 0.5)])


def _candidates(points: list[tuple[float, float]]) -> dict:
    return {"candidates": [{"trial_id": f"t{i}", "step": 8, "objective": objective,
                            "answer_loss": drift} for i, (objective, drift) in enumerate(points)]}


def test_the_front_holds_the_points_no_other_beats_on_both() -> None:
    assert _front_of(_candidates([(0.4, 0.9), (0.5, 0.1), (0.6, 0.5)])) == 2
    assert _front_of(_candidates([(0.4, 0.1), (0.5, 0.2)])) == 1
    assert _front_of({"front": [{}, {}, {}]}) == 3  # as the run recorded it


@pytest.mark.parametrize(("retentive", "kept", "objective", "verdict"), [
    (0.52, 1.0, 0.42, "a win"),        # 0.08 lower, keeps it all, objective +0.01
    (0.58, 1.0, 0.42, "not a win"),    # only 0.02 lower
    (0.52, 0.8, 0.42, "not a win"),    # keeps 80% of the untuned held-out score
    (0.52, 1.0, 0.46, "not a win"),    # objective's test loss 0.05 worse
])
def test_the_win_condition_is_the_protocols(retentive: float, kept: float, objective: float,
                                            verdict: str) -> None:
    single = [_run(seed, 0.41, 0.60, 1.1, multi=False) for seed in (0, 1)]
    multi = [_run(seed, objective, retentive, kept, multi=True) for seed in (0, 1)]
    text = mo_report(multi, single)
    assert text.endswith(f"over 2 seed pairs: {verdict}")
    assert "| 2 |" in text and "| 1 |" in text  # the fronts: 2 of the single run's 3, 1


def test_a_failed_multi_objective_run_is_listed_not_paired() -> None:
    single = [_run(0, 0.41, 0.60, 1.1, multi=False)]
    failed = {"sweep": "sft", "seed": 0, "failed": "the sweep did not finish (see its log)"}
    assert mo_report([failed], single).startswith("no finished pair yet\nfailed: sft seed 0")
