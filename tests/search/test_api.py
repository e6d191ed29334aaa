"""The Python API's mistakes: the same one-line ``SpecError`` messages as the commands."""

from __future__ import annotations

import pytest

import basin
from search.api import load_sweep_spec
from tests.conftest import tiny_sweep, write_sweep


def test_a_sweep_given_as_a_mapping_or_a_spec_is_the_sweep_file_s(tmp_path):
    raw = tiny_sweep(tmp_path)
    from_file, source = load_sweep_spec(write_sweep(tmp_path / "s.yaml", raw),
                                        ["search.num_trials=3"])
    from_mapping, shown = load_sweep_spec(raw, ["search.num_trials=3"])
    assert from_mapping == from_file and shown == "<sweep>" and source.endswith("s.yaml")
    assert load_sweep_spec(from_file)[0] == from_file
    assert raw["search"]["num_trials"] == 1  # the caller's mapping is not changed


@pytest.mark.parametrize("call, message", [
    (lambda tmp: basin.run(42), "sweep: expected a sweep file's path, a mapping or a "
                                "SweepSpec (got int)"),
    (lambda tmp: basin.run(tmp / "missing.yaml"), "missing.yaml: file not found"),
    (lambda tmp: basin.run(tiny_sweep(tmp), ["search.num_trails=2"]),
     "--set search.num_trails: unknown key (did you mean 'num_trials'?) (got 2)"),
    (lambda tmp: basin.train({**tiny_sweep(tmp), "name": "n" * 300}),
     "<sweep>: name: String should have at most 100 characters"),
    (lambda tmp: basin.load(tmp), "not a basin run directory (no sweep.yaml)"),
    (lambda tmp: basin.export(tmp, tmp / "bundle", step=0),
     "step: must be a positive step (got 0)"),
], ids=["not-a-sweep", "missing-file", "override-typo", "bad-field", "not-a-run", "step-zero"])
def test_mistakes_are_refused_in_one_line(call, message, tmp_path):
    with pytest.raises(basin.SpecError) as refused:
        call(tmp_path)
    (line,) = refused.value.problems
    assert message in line, line
