"""``enabled: false`` on an optional block, and ``--set`` mistakes blamed on the ``--set``."""

from __future__ import annotations

import pytest

from search.core.errors import SpecError
from search.spec.messages import blame_overrides, where
from search.spec.model import load_spec


def test_enabled_false_switches_each_optional_block_off(sweep_factory):
    path = sweep_factory(check={"top": 3, "enabled": False},
                         scheduler={"type": "asha", "grace_period": 4, "enabled": False},
                         tracking={"wandb": {"mode": "offline", "enabled": False}})
    spec = load_spec(path)
    assert spec.check is None
    assert spec.scheduler.type == "fifo"
    assert spec.tracking.wandb.mode == "disabled"


def test_enabled_true_keeps_the_block_as_written(sweep_factory):
    spec = load_spec(sweep_factory(check={"top": 3, "enabled": True}))
    assert spec.check is not None and spec.check.top == 3
    # ... and from the command line, on a sweep file without the block.
    spec = load_spec(sweep_factory(), ["check.enabled=true"])
    assert spec.check is not None and spec.check.top == 5  # the check's defaults
    assert load_spec(sweep_factory(check={"top": 3}), ["check.enabled=false"]).check is None


def test_enabled_must_be_a_boolean(sweep_factory):
    path = sweep_factory(scheduler={"enabled": "no"})
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert caught.value.problems == [f"{path}: scheduler.enabled: expected true or false "
                                     f"(got 'no')"]


@pytest.mark.parametrize("path, overrides, expected", [
    ("search.num_trials", ["search.num_trials=0"], "--set search.num_trials"),
    ("selection", ["selection.criterion=x"], "--set selection.criterion: selection"),
    ("data.train_file", ["data={source: files}"], "--set data: data.train_file"),
    ("search.seed", ["search.num_trials=4"], "sweep.yaml: search.seed"),
    ("search.seed", ["search.seed=1", "search.seed=-1"], "--set search.seed"),
    ("search.seed", None, "sweep.yaml: search.seed"),
])
def test_a_mistake_is_located_where_it_was_made(path, overrides, expected):
    assert where("sweep.yaml", path, overrides) == expected


def test_later_problems_are_blamed_on_their_set():
    line = "s.yaml: output_dir: cannot write in /proc (got '/proc/x')"
    assert blame_overrides(line, "s.yaml", ["output_dir=/proc/x"]) == \
        "--set output_dir: cannot write in /proc (got '/proc/x')"
    assert blame_overrides(line, "s.yaml", ["search.seed=1"]) == line
    sentence = "s.yaml: the sweep needs 4 cores: this machine has 2"
    assert blame_overrides(sentence, "s.yaml", ["output_dir=x"]) == sentence
