"""A run directory's recorded sweep.yaml, written by an earlier basin, still reads."""

from __future__ import annotations

import pytest
import yaml

from search.core.errors import SpecError
from search.spec.model import dump_spec, load_spec
from search.spec.recorded import load_recorded_spec
from search.store.rundir import RunDir


def test_a_retired_setting_is_dropped_from_a_recorded_sweep_but_refused_in_a_users(
        sweep_factory, tmp_path):
    recorded = yaml.safe_load(dump_spec(load_spec(sweep_factory())))
    recorded["check"] = {"top": 3, "general_samples": 32}  # what basin 0.2 wrote in every run
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(recorded))
    with pytest.raises(SpecError, match="general_samples.*retention.samples"):
        load_spec(tmp_path / "sweep.yaml")
    spec = load_recorded_spec(tmp_path / "sweep.yaml")
    assert spec.check.top == 3
    assert RunDir(tmp_path).spec == spec  # basin best, plots, export and resume read it so
