"""Where a run directory lives: a local or shared path, or an object store (``s3://``,
``gs://``) reached through pyarrow's filesystems, as Ray's own storage is.

An object-store run directory has a working copy on the driver's disk (the *mirror*): basin
writes its own files there and uploads them, Ray uploads the trials' folders and checkpoints
itself, and reading commands download what they need. Checkpoint payloads are only downloaded
when a command needs one (``basin export``): a sweep of large models keeps gigabytes of them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyarrow.fs as pafs

from search.core.uris import join, name_of, parent_of, without_query

MIRROR_ROOT_ENV = "BASIN_MIRROR_DIR"
PROBE_LIMIT_S = 15
# The AWS SDK's own switch (read by the C++ SDK inside pyarrow, and by boto) for the EC2
# instance metadata service at 169.254.169.254, which it asks for credentials and the region
# when neither is set in the environment or ~/.aws. basin sets it for stores that are not AWS
# (see ``_no_metadata_lookups``); the trials inherit it (``search/tune/cluster.py``).
METADATA_OFF_ENV = "AWS_EC2_METADATA_DISABLED"


class LocationError(Exception):
    """An object-store location that cannot be reached or read; one line, naming it."""


def mirror_of(location: str) -> Path:
    """The driver-side working copy of an object-store run directory: the same URI always maps
    to the same folder, so a driver that restarts on this machine finds its files again."""
    root = Path(os.environ.get(MIRROR_ROOT_ENV) or Path.home() / ".cache" / "basin" / "runs")
    parent = without_query(parent_of(location))
    return root / hashlib.sha1(parent.encode()).hexdigest()[:12] / name_of(location)


@contextmanager
def _reported(where: str) -> Iterator[None]:
    """pyarrow's errors as a one-line ``LocationError`` naming ``where`` (query left out)."""
    try:
        yield
    except (OSError, ValueError) as error:
        raise LocationError(f"{without_query(where)}: {_first_line(error)}") from error


def open_store(location: str) -> tuple[pafs.FileSystem, str]:
    """pyarrow's filesystem for a URI and the path on it; unreachable stores raise
    ``LocationError``."""
    _no_metadata_lookups(location)
    with _reported(location):
        return pafs.FileSystem.from_uri(location)


def _no_metadata_lookups(location: str) -> None:
    """Keep the AWS SDK off the EC2 metadata service for an S3 store that is not AWS.

    An ``endpoint_override`` outside ``amazonaws.com`` (MinIO, Ceph, a test's moto server)
    names the whole store: credentials and region come from the URI, the environment or
    ``~/.aws``, never from an EC2 instance's role. Without this the SDK asks 169.254.169.254
    for both whenever the environment lacks them, on every machine, EC2 or not (a connect
    beyond the machine per client; seconds of retries where nothing answers). AWS's own S3
    (no override, or an ``amazonaws.com`` one) keeps the SDK's chain: on EC2 the instance
    role is how it finds credentials. A value the user set wins.
    """
    parts = urlsplit(location)
    if parts.scheme != "s3":
        return
    endpoint = (parse_qs(parts.query).get("endpoint_override") or [""])[0]
    if not endpoint:
        return
    host = urlsplit(endpoint if "://" in endpoint else f"//{endpoint}").hostname or ""
    if not host.endswith((".amazonaws.com", ".amazonaws.com.cn")):
        os.environ.setdefault(METADATA_OFF_ENV, "true")


def exists(location: str, relative: str = "") -> bool:
    """Whether a file or folder exists at ``location``/``relative``."""
    fs, root = open_store(location)
    with _reported(location):
        return fs.get_file_info(_child(root, relative)).type != pafs.FileType.NotFound


def check_reachable(location: str) -> None:
    """Ask the store about ``location`` once, failing within seconds: Google's client retries an
    unreachable store for many minutes unless told otherwise."""
    probe = location
    if urlsplit(location).scheme in ("gs", "gcs") and "retry_limit_seconds" not in location:
        probe += ("&" if "?" in location else "?") + f"retry_limit_seconds={PROBE_LIMIT_S}"
    exists(probe)


def list_files(location: str) -> list[pafs.FileInfo]:
    """Every file under ``location`` (recursively); empty if nothing is there."""
    return _files(location, *open_store(location))


def _files(location: str, fs: pafs.FileSystem, root: str) -> list[pafs.FileInfo]:
    with _reported(location):
        infos = fs.get_file_info(pafs.FileSelector(root, recursive=True, allow_not_found=True))
    return [info for info in infos if info.type == pafs.FileType.File]


def download(location: str, local: Path, keep: Callable[[str], bool] = lambda _: True) -> int:
    """Copy the files under ``location`` whose relative path ``keep`` accepts into ``local``.

    A file whose local copy is as new as the stored one is left alone: repeated pulls only
    fetch what changed, and a file the driver wrote after its last upload is not overwritten.
    Returns the number of files fetched.
    """
    fs, root = open_store(location)
    fetched = 0
    for info in _files(location, fs, root):
        relative = info.path[len(root):].lstrip("/")
        if not keep(relative):
            continue
        target = local / relative
        stored_at = info.mtime.timestamp() if info.mtime else None
        if target.is_file() and stored_at is not None and target.stat().st_mtime >= stored_at:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with _reported(join(location, relative)), fs.open_input_stream(info.path) as source, \
                open(target, "wb") as sink:
            sink.write(source.readall())
        if stored_at is not None:
            os.utime(target, (stored_at, stored_at))
        fetched += 1
    return fetched


def upload(local: Path, location: str, relatives: Iterable[str]) -> None:
    """Copy these files (paths relative to ``local``) to the same places under ``location``."""
    fs, root = open_store(location)
    for relative in relatives:
        with _reported(join(location, relative)), open(local / relative, "rb") as source, \
                fs.open_output_stream(_child(root, relative)) as sink:
            sink.write(source.read())


def remove(location: str, relative: str) -> None:
    """Delete the folder ``location``/``relative`` and everything in it (nothing there: fine)."""
    fs, root = open_store(location)
    target = _child(root, relative)
    with _reported(join(location, relative)):
        if fs.get_file_info(target).type != pafs.FileType.NotFound:
            fs.delete_dir(target)


def _child(root: str, relative: str) -> str:
    return f"{root.rstrip('/')}/{relative}" if relative else root


def _first_line(error: BaseException, limit: int = 300) -> str:
    text = str(error).strip() or type(error).__name__
    line = text.splitlines()[0]
    return line if len(line) <= limit else line[:limit] + "..."
