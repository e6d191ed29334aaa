"""Ray's experiment state survives a write that dies half-way (a driver killed mid-snapshot, or
mid-copy into the run directory): the previous snapshot stays whole, so `basin resume` continues the sweep instead of Ray
restarting it from scratch."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pyarrow.fs
import pytest
from ray.train._internal.storage import _FilesystemSyncer, _upload_to_fs_path
from ray.tune.execution.tune_controller import TuneController

from search.tune import atomic_state
from search.tune.atomic_state import (
    copy_into_run_directory_atomically,
    write_experiment_state_atomically,
)


class Unwritable:
    """Dies half-way through the JSON: Ray's encoder pickles what JSON cannot hold."""

    def __reduce__(self):
        raise RuntimeError("killed mid-write")


class Controller(TuneController):
    """Ray's own save_to_dir, run on a stand-in holding only what it reads."""

    def __init__(self, folder, trial_data):  # no Tune loop
        self._storage = SimpleNamespace(experiment_driver_staging_path=str(folder))
        self._session_str = "2026-12-03_00-00-00"
        self._start_time = 0.0
        self._trial_data = trial_data
        self._search_alg = self._callbacks = SimpleNamespace(save_to_dir=lambda *a, **k: None)

    def _get_trial_checkpoints(self):
        return {"t": self._trial_data}

    def __getstate__(self):  # as Ray's: the controller's own attributes
        return {k: v for k, v in vars(self).items() if k in ("_session_str", "_start_time")
                or k not in ("_storage", "_search_alg", "_callbacks", "_trial_data")}


@pytest.fixture(autouse=True)
def ray_as_shipped(monkeypatch):
    shipped = getattr(TuneController.save_to_dir, "_ray_original", TuneController.save_to_dir)
    monkeypatch.setattr(TuneController, "save_to_dir", shipped)


def state_files(folder):
    return sorted(folder.glob("experiment_state-*.json"))


def test_a_snapshot_that_dies_half_way_leaves_the_previous_one_whole(tmp_path):
    write_experiment_state_atomically()
    Controller(tmp_path, {"step": 1}).save_to_dir()
    (state,) = state_files(tmp_path)
    whole = state.read_text()
    assert json.loads(whole)["trial_data"] == [{"step": 1}]
    # Nothing of the swap is saved with the controller (a resumed one would write elsewhere).
    assert set(json.loads(whole)["runner_data"]) == {"_session_str", "_start_time"}
    assert Controller.CKPT_FILE_TMPL == TuneController.CKPT_FILE_TMPL
    with pytest.raises(RuntimeError, match="killed mid-write"):
        Controller(tmp_path, {"step": 2, "bad": Unwritable()}).save_to_dir()
    assert state.read_text() == whole  # not the half-written second snapshot
    Controller(tmp_path, {"step": 3}).save_to_dir()
    assert json.loads(state.read_text())["trial_data"] == [{"step": 3}]
    # Nothing else in the staging folder, which Ray's syncer copies meanwhile.
    assert [p.name for p in tmp_path.iterdir()] == [state.name]


def test_ray_as_shipped_tears_it(tmp_path):
    """Why the wrapper exists (and the sign to drop it once Ray writes atomically itself)."""
    Controller(tmp_path, {"step": 1}).save_to_dir()
    (state,) = state_files(tmp_path)
    with pytest.raises(RuntimeError, match="killed mid-write"):
        Controller(tmp_path, {"step": 2, "bad": Unwritable()}).save_to_dir()
    with pytest.raises(json.JSONDecodeError):
        json.loads(state.read_text())


def test_a_copy_into_the_run_directory_that_dies_half_way_leaves_the_old_file_whole(
        tmp_path, monkeypatch):
    """The second write: Ray's syncer copying the staging folder into the run directory
    (pyarrow writes each file in place; a kill there emptied the run's state in CI)."""
    copy_into_run_directory_atomically()
    staging, run = tmp_path / "staging", tmp_path / "run"
    (staging / "nested").mkdir(parents=True)
    (staging / "experiment_state-x.json").write_text('{"step": 1}')
    (staging / "nested" / "searcher.pkl").write_bytes(b"1")
    syncer = _FilesystemSyncer(storage_filesystem=pyarrow.fs.LocalFileSystem())
    command, arguments = syncer._sync_up_command(str(staging), str(run))
    command(**arguments)
    assert (run / "experiment_state-x.json").read_text() == '{"step": 1}'
    assert (run / "nested" / "searcher.pkl").read_bytes() == b"1"

    (staging / "experiment_state-x.json").write_text('{"step": 2}')

    def dies_half_way(source, target):
        Path(target).write_text(Path(source).read_text()[:5])
        raise KeyboardInterrupt("killed mid-copy")

    monkeypatch.setattr(atomic_state.shutil, "copyfile", dies_half_way)
    with pytest.raises(KeyboardInterrupt):
        command(**syncer._sync_up_command(str(staging), str(run))[1])
    assert (run / "experiment_state-x.json").read_text() == '{"step": 1}'
    # What the kill left behind is not a state file Ray would pick.
    assert sorted(p.name for p in run.glob("experiment_state-*.json")) == \
        ["experiment_state-x.json"]


def test_uploads_to_an_object_store_stay_rays(tmp_path):
    """A PUT is whole already: anything but a local path keeps Ray's upload."""
    copy_into_run_directory_atomically()
    remote = pyarrow.fs.SubTreeFileSystem(str(tmp_path), pyarrow.fs.LocalFileSystem())
    command, _ = _FilesystemSyncer(storage_filesystem=remote)._sync_up_command(
        str(tmp_path), "bucket/run")
    assert command is _upload_to_fs_path
