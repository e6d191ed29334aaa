"""basin train's verdict on a recipe's reproduce block: both figures, and what differs."""

from __future__ import annotations

import math

import pytest

from search.core.errors import SpecError
from search.spec.model import validate_spec
from search.spec.reproduce import Reproduce, verdict
from tests.conftest import tiny_sweep

VERSIONS = {"torch": "2.13.0+cpu", "peft": "0.21.2"}
RECORDED = Reproduce(step=20, metric="val_loss", value=0.6149, recipe_hash="abc",
                     versions=VERSIONS)


def reports(value: float, step: int = 20) -> dict[int, dict]:
    return {10: {"step": 10, "val_loss": 0.7}, step: {"step": step, "val_loss": value}}


def test_the_recorded_figure_within_the_precision_s_bound_is_reproduced():
    ok, line = verdict(RECORDED, reports(0.6149), "abc", VERSIONS, "fp32")
    assert ok and line == ("reproduced val_loss 0.614900 at step 20 (the sweep recorded "
                           "0.614900; difference +0.0e+00)")
    assert verdict(RECORDED, reports(0.6149 + 9e-5), "abc", VERSIONS, "fp32")[0]
    assert not verdict(RECORDED, reports(0.6149 + 2e-4), "abc", VERSIONS, "fp32")[0]
    assert verdict(RECORDED, reports(0.6149 + 2e-3), "abc", VERSIONS, "bf16")[0]
    # Close enough, yet not the same recipe: said all the same.
    ok, line = verdict(RECORDED, reports(0.6149), "def", VERSIONS, "fp32")
    assert ok and line.endswith("; though the recipe differs from the sweep's (hash def, "
                                "recorded abc): a setting or the data changed")


def test_a_figure_that_moved_is_a_warning_with_both_figures_and_the_likely_cause():
    ok, line = verdict(RECORDED, reports(0.6793), "abc", VERSIONS, "fp32")
    assert not ok
    assert line == ("warning: not reproduced: val_loss 0.679300 at step 20, the sweep recorded "
                    "0.614900 (difference +0.064400, more than the 0.0001 allowed in fp32); "
                    "same recipe and versions")
    ok, line = verdict(RECORDED, reports(0.6793), "def", {**VERSIONS, "torch": "2.14.1"},
                       "fp32")
    assert "the recipe differs from the sweep's (hash def, recorded abc)" in line
    assert "other library versions: torch 2.13.0+cpu -> 2.14.1" in line


@pytest.mark.parametrize("found, said", [
    (reports(0.61, step=30), "no evaluation at step 20"),
    (reports(math.nan), "no finite val_loss at step 20"),
])
def test_nothing_to_compare_is_said(found, said):
    ok, line = verdict(RECORDED, found, "abc", VERSIONS, "fp32")
    assert not ok and line == f"warning: not reproduced: {said} to compare (the sweep recorded 0.614900)"


@pytest.mark.parametrize("block, message", [
    ({"step": 0, "metric": "val_loss", "value": 0.5},
     "tiny: reproduce.step: Input should be greater than 0 (got 0)"),
    ({"step": 4, "metric": "val_los", "value": 0.5},
     "tiny: reproduce.metric: task 'sequence-classification' reports no 'val_los'"),
    ({"step": 4, "metric": "val_loss"}, "tiny: reproduce.value: Field required"),
])
def test_a_bad_reproduce_block_is_named(tmp_path, block, message):
    with pytest.raises(SpecError) as error:
        validate_spec(tiny_sweep(tmp_path, reproduce=block), "tiny")
    assert str(error.value).startswith(message), str(error.value)
