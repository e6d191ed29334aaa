"""basin's result logger keeps the driver's own copy of a restarted trial's result.json (Ray's
copies the stored one over it, which may miss the latest reports), still restores the stored
one for a new driver, and is the JSON logger Ray uses (so Ray adds no second one)."""

from __future__ import annotations

from types import SimpleNamespace

import pyarrow.fs
from ray.tune.logger import JsonLoggerCallback

from search.tune.result_logger import ResultLogger


def _trial(staging, stored) -> SimpleNamespace:
    storage = SimpleNamespace(trial_fs_path=str(stored),
                              storage_filesystem=pyarrow.fs.LocalFileSystem())
    return SimpleNamespace(local_path=str(staging), storage=storage, checkpoint=object())


def test_a_restarted_trial_keeps_the_reports_this_driver_wrote(tmp_path) -> None:
    staging, stored = tmp_path / "staging", tmp_path / "run"
    staging.mkdir(), stored.mkdir()
    (staging / "result.json").write_text('{"step": 4}\n{"step": 8}\n')
    (stored / "result.json").write_text('{"step": 4}\n')  # synced before step 8
    ResultLogger()._restore_from_remote("result.json", _trial(staging, stored))
    assert (staging / "result.json").read_text() == '{"step": 4}\n{"step": 8}\n'


def test_a_new_driver_restores_the_stored_reports(tmp_path) -> None:
    staging, stored = tmp_path / "staging", tmp_path / "run"
    staging.mkdir(), stored.mkdir()
    (stored / "result.json").write_text('{"step": 4}\n')
    ResultLogger()._restore_from_remote("result.json", _trial(staging, stored))
    assert (staging / "result.json").read_text() == '{"step": 4}\n'


def test_it_is_rays_json_logger() -> None:
    assert isinstance(ResultLogger(), JsonLoggerCallback)
