"""Object-store URIs as strings (``s3://bucket/path?endpoint_override=...``): which locations
are object stores, and how to join, split and show them. No I/O (``search/store/object_store.py``
reads and writes them)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

OBJECT_STORE_SCHEMES = ("s3", "gs", "gcs")


def is_object_store(location: str | os.PathLike) -> bool:
    """True for ``s3://...``, ``gs://...`` URIs; False for paths."""
    return urlsplit(str(location)).scheme in OBJECT_STORE_SCHEMES


def join(location: str, *parts: str) -> str:
    """``location`` with path segments appended; a URI keeps its query (e.g. an S3 endpoint
    override) at the end, where pyarrow and Ray read it."""
    base, _, query = location.partition("?")
    joined = "/".join([base.rstrip("/"), *(part.strip("/") for part in parts)])
    return f"{joined}?{query}" if query else joined


def parent_of(location: str) -> str:
    """The URI one level up (its query kept)."""
    base, _, query = location.partition("?")
    parent = base.rstrip("/").rsplit("/", 1)[0]
    return f"{parent}?{query}" if query else parent


def name_of(location: str) -> str:
    """The last path segment of a URI (the run directory's name)."""
    return without_query(location).rstrip("/").rsplit("/", 1)[-1]


def without_query(location: str) -> str:
    """The URI without its query, for messages (a query may carry an endpoint or a key)."""
    return location.partition("?")[0]
