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


@pytest.mark.parametrize("thaw", ["forecast", "model"])
def test_a_removed_thaw_order_reads_as_rank_in_a_recorded_sweep_but_is_refused_in_a_users(
        sweep_factory, tmp_path, thaw):
    recorded = yaml.safe_load(dump_spec(load_spec(sweep_factory())))
    recorded["scheduler"] = {"type": "freeze", "grace_period": 4, "thaw": thaw}
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(recorded))
    with pytest.raises(SpecError, match=f"scheduler.thaw: '{thaw}' was removed in basin 0.2"):
        load_spec(tmp_path / "sweep.yaml")
    assert RunDir(tmp_path).spec.scheduler.thaw == "rank"


def test_a_run_that_searched_two_objectives_still_reads(sweep_factory, tmp_path):
    recorded = yaml.safe_load(dump_spec(load_spec(sweep_factory())))
    recorded["search"]["multi_objective"] = True  # basin 0.1; removed in 0.2
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(recorded))
    with pytest.raises(SpecError, match="search.multi_objective: was removed in basin 0.2"):
        load_spec(tmp_path / "sweep.yaml")
    assert RunDir(tmp_path).spec.search.num_trials == recorded["search"]["num_trials"]
