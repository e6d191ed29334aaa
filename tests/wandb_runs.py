"""Read offline W&B runs back with wandb's own transaction-log reader (no grepping)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from wandb.proto import wandb_internal_pb2
from wandb.sdk.internal import datastore


@dataclass
class OfflineRun:
    run_id: str
    group: str = ""
    job_type: str = ""
    name: str = ""
    tags: list[str] = field(default_factory=list)
    config: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)
    ended: bool = False  # the run's exit record is in the file
    system_samples: int = 0  # W&B's system-metrics records (CPU, memory...) in the file


def _key(item) -> str:
    return item.key or "/".join(item.nested_key)


def read_run(path: Path) -> OfflineRun:
    """Fold the records of one ``run-<id>.wandb`` file into a run (the last run record wins)."""
    store = datastore.DataStore()
    store.open_for_scan(str(path))
    run = OfflineRun(run_id="")
    while (data := store.scan_data()) is not None:
        record = wandb_internal_pb2.Record()
        record.ParseFromString(data)
        kind = record.WhichOneof("record_type")
        if kind == "run":
            run.run_id, run.group = record.run.run_id, record.run.run_group
            run.job_type, run.name = record.run.job_type, record.run.display_name
            run.tags = list(record.run.tags)
            run.config.update({_key(u): json.loads(u.value_json) for u in record.run.config.update})
        elif kind == "config":
            run.config.update({_key(u): json.loads(u.value_json) for u in record.config.update})
        elif kind == "summary":
            run.summary.update({_key(u): json.loads(u.value_json) for u in record.summary.update})
        elif kind == "history":
            run.history.append({_key(i): json.loads(i.value_json) for i in record.history.item})
        elif kind == "stats":
            run.system_samples += 1
        elif kind == "exit":
            run.ended = True
    return run


def read_offline_runs(wandb_dir: Path, wait_s: float = 30) -> list[OfflineRun]:
    """Every offline run under a ``wandb/`` directory, one per run file, read once each holds
    its exit record (or after ``wait_s``: a killed driver's runs never get one). wandb-core
    writes a run's file behind ``run.finish()``: read at once, a finished run's file may still
    lack its records (seen: 2 to 4 of 15 runs without their run record)."""
    deadline = time.monotonic() + wait_s
    while True:
        runs = [read_run(path) for path in sorted(wandb_dir.glob("offline-run-*/run-*.wandb"))]
        if all(run.ended for run in runs) or time.monotonic() > deadline:
            return runs
        time.sleep(0.2)
