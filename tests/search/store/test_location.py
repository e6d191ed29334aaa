"""Object-store run directories without Ray: URIs, transfers against a real S3 endpoint (moto's
server), and reading a run directory back from a bucket."""

from __future__ import annotations

import json
import os
import time

import pytest

from search.cli.main import main
from search.core import uris
from search.core.errors import SpecError
from search.store import object_store as store
from search.store import trial_folder
from search.store.rundir import RunDir

QUERY = "?endpoint_override=127.0.0.1:9000&scheme=http"


def test_uris_keep_their_query_at_the_end():
    assert uris.is_object_store("s3://b/runs") and uris.is_object_store("gs://b/x")
    assert not uris.is_object_store("/shared/runs") and not uris.is_object_store("runs")
    run = uris.join(f"s3://b/runs/{QUERY}", "tiny-1")
    assert run == f"s3://b/runs/tiny-1{QUERY}"
    assert uris.join(run, "trial", "checkpoint_000001") == \
        f"s3://b/runs/tiny-1/trial/checkpoint_000001{QUERY}"
    assert uris.parent_of(run) == f"s3://b/runs{QUERY}"
    assert uris.name_of(run) == "tiny-1"
    assert uris.without_query(run) == "s3://b/runs/tiny-1"


def test_a_uri_always_has_the_same_mirror_and_a_name_that_says_which_run(monkeypatch, tmp_path):
    monkeypatch.setenv(store.MIRROR_ROOT_ENV, str(tmp_path))
    mirror = store.mirror_of(f"s3://b/runs/tiny-1{QUERY}")
    assert mirror == store.mirror_of("s3://b/runs/tiny-1")  # the endpoint does not matter
    assert mirror.name == "tiny-1" and mirror.is_relative_to(tmp_path)
    assert store.mirror_of("s3://other/runs/tiny-1") != mirror


def test_download_fetches_only_what_changed_and_never_clobbers_newer_local_files(
        s3_store, tmp_path):
    remote = uris.join(s3_store["uri"], "transfer-test")
    source = tmp_path / "source"
    (source / "deep").mkdir(parents=True)
    (source / "a.txt").write_text("a")
    (source / "deep" / "b.txt").write_text("b")
    store.upload(source, remote, ["a.txt", "deep/b.txt"])
    assert store.exists(remote, "deep/b.txt") and not store.exists(remote, "nope")

    copy = tmp_path / "copy"
    assert store.download(remote, copy) == 2
    assert (copy / "deep" / "b.txt").read_text() == "b"
    assert store.download(remote, copy) == 0  # nothing changed
    assert store.download(remote, tmp_path / "only-a", keep=lambda rel: rel == "a.txt") == 1
    assert not (tmp_path / "only-a" / "deep").exists()

    (copy / "a.txt").write_text("written here after the upload")
    later = time.time() + 5  # newer than the stored copy, whatever the store's clock resolution
    os.utime(copy / "a.txt", (later, later))
    assert store.download(remote, copy) == 0
    assert (copy / "a.txt").read_text() == "written here after the upload"


def test_an_unreachable_store_is_one_line_naming_it(tmp_path):
    dead = "s3://basin/runs/x?endpoint_override=127.0.0.1:9&scheme=http"
    with pytest.raises(store.LocationError) as caught:
        store.upload(tmp_path, dead, [])  # nothing to send: succeeds without contact
        (tmp_path / "f").write_text("x")
        store.upload(tmp_path, dead, ["f"])
    assert str(caught.value).startswith("s3://basin/runs/x/f: ")
    assert "endpoint_override" not in str(caught.value)


def test_a_store_outside_aws_keeps_the_sdk_off_the_metadata_service(monkeypatch):
    # The SDK asks 169.254.169.254 for credentials and the region when the environment lacks
    # them: pointless for a store that is not AWS, an EC2 role's business for AWS's own S3.
    monkeypatch.delenv(store.METADATA_OFF_ENV, raising=False)
    for aws in ("s3://b/runs", "s3://b/runs?endpoint_override=s3.eu-west-1.amazonaws.com",
                "gs://b/runs"):
        store._no_metadata_lookups(aws)
        assert store.METADATA_OFF_ENV not in os.environ, aws
    store.open_store(f"s3://b/runs{QUERY}")  # a store on this machine (MinIO, moto)
    assert os.environ[store.METADATA_OFF_ENV] == "true"
    monkeypatch.setenv(store.METADATA_OFF_ENV, "false")  # the user's own setting wins
    store._no_metadata_lookups("s3://b/runs?endpoint_override=http://minio.lan:9000")
    assert os.environ[store.METADATA_OFF_ENV] == "false"


def _fake_remote_run(s3_store, tmp_path, sweep_text: str) -> str:
    """A finished-looking run directory in the bucket: the sweep, one trial folder with a
    report, a candidate (payload and metrics) and Ray's resume checkpoint, and a W&B folder."""
    remote = uris.join(s3_store["uri"], "tiny-20260101-000000")
    local = tmp_path / "written-by-the-driver"
    trial = local / "run_trial_abc12_00000_0_2026-01-01"
    candidate = trial / "candidates" / "step_00000004"
    resume = trial / "checkpoint_000001"
    for folder in (candidate, resume):
        folder.mkdir(parents=True)
        (folder / "trial_metrics.json").write_text(json.dumps({"step": 4}))
        (folder / "adapter_model.safetensors").write_bytes(b"\0" * 1000)
    (local / "sweep.yaml").write_text(sweep_text)
    (trial / "result.json").write_text(json.dumps({"step": 4, "best_step": 4,
                                                   "best_objective": 0.5}) + "\n")
    (local / "wandb").mkdir()
    (local / "wandb" / "run.wandb").write_text("w")
    store.upload(local, remote, [p.relative_to(local).as_posix() for p in local.rglob("*")
                                 if p.is_file()])
    return remote


def test_reading_a_run_from_a_bucket_downloads_reports_but_not_checkpoints(
        s3_store, tmp_path, monkeypatch, sweep_factory):
    monkeypatch.setenv(store.MIRROR_ROOT_ENV, str(tmp_path / "mirrors"))
    remote = _fake_remote_run(s3_store, tmp_path, sweep_factory().read_text())
    run = RunDir.open(remote)
    assert run.remote == remote and run.path == store.mirror_of(remote)
    assert run.shown == uris.without_query(remote)
    (folder,) = run.trial_folders().values()
    assert trial_folder.history(folder)[0]["best_objective"] == 0.5
    assert not (run.path / "wandb").exists()
    candidate = folder / "candidates" / "step_00000004"
    assert (candidate / "trial_metrics.json").is_file()
    assert not (candidate / "adapter_model.safetensors").exists()  # fetched only on demand
    assert not (folder / "checkpoint_000001").exists()  # resume checkpoints: never downloaded

    (where,) = run.checkpoints(folder).values()
    assert run.checkpoints(folder) == {4: uris.join(remote, folder.name, "candidates",
                                                     "step_00000004")}
    assert run.fetch(where) == candidate
    assert (candidate / "adapter_model.safetensors").stat().st_size == 1000
    assert run.size_bytes() > 1000


def test_a_bucket_path_that_is_not_a_run_directory_is_refused_in_one_line(
        s3_store, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(store.MIRROR_ROOT_ENV, str(tmp_path / "mirrors"))
    missing = uris.join(s3_store["uri"], "no-such-run")
    with pytest.raises(SpecError, match=r"^s3://basin/runs/no-such-run: not a basin run "
                                        r"directory \(no sweep.yaml\)$"):
        RunDir.open(missing)
    for command in ("status", "best", "plots", "resume"):
        assert main([command, missing]) == 2
        assert capsys.readouterr().err.strip() == \
            "s3://basin/runs/no-such-run: not a basin run directory (no sweep.yaml)"
    assert not (tmp_path / "mirrors").exists()
