"""Settings basin no longer takes (search/spec/removed.py): each refused with what replaced it
or why it went, blamed on the --set that gave it; a value that means what basin does anyway
is dropped."""

from __future__ import annotations

import pytest

from search.core.errors import SpecError
from search.spec.model import load_spec, validate_spec
from search.spec.removed import refuse_removed


def test_a_value_that_changes_nothing_is_dropped_and_the_users_mapping_left_alone() -> None:
    raw = {"search": {"multi_objective": False, "num_trials": 3},
           "scheduler": {"type": "freeze", "thaw": "rank"}}
    assert refuse_removed(raw, "s.yaml") == {"search": {"num_trials": 3},
                                             "scheduler": {"type": "freeze", "thaw": "rank"}}
    assert raw["search"] == {"multi_objective": False, "num_trials": 3}


def test_every_removed_setting_named_is_one_line() -> None:
    raw = {"gap_pruning": {}, "search": {"multi_objective": True},
           "scheduler": {"thaw": "model"}}
    with pytest.raises(SpecError) as refused:
        refuse_removed(raw, "s.yaml")
    assert [line.split(":")[:2] for line in refused.value.problems] == [
        ["s.yaml", " gap_pruning"], ["s.yaml", " scheduler.thaw"],
        ["s.yaml", " search.multi_objective"]]


def test_a_removed_setting_given_on_the_command_line_is_blamed_on_the_set(sweep_factory
                                                                           ) -> None:
    with pytest.raises(SpecError) as refused:
        load_spec(sweep_factory(), ["search.multi_objective=true"])
    assert refused.value.problems[0].startswith(
        "--set search.multi_objective: was removed in basin 0.2, measured no better")


def test_a_sweep_file_that_says_it_is_off_still_loads(sweep_factory) -> None:
    spec = load_spec(sweep_factory(), ["search.multi_objective=false"])
    assert "multi_objective" not in spec.search.model_dump()
    assert validate_spec({**spec.model_dump(mode="json")}, "again").search == spec.search
