"""Every sweep file shipped in sweeps/ loads, and opens with the command that launches it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from search.lifecycle.preflight import preflight
from search.spec.model import load_spec

ROOT = Path(__file__).parent.parent
SWEEPS = sorted((ROOT / "sweeps").glob("*.yaml"))


def test_there_are_sweeps():
    assert any(path.name == "minilm_lora.yaml" for path in SWEEPS)


@pytest.mark.parametrize("path", SWEEPS, ids=lambda p: p.name)
def test_sweep_file_is_valid(path, monkeypatch):
    monkeypatch.chdir(ROOT)  # sweep files name data paths relative to the project root
    train_file = yaml.safe_load(path.read_text()).get("data", {}).get("train_file")
    if train_file and not (ROOT / train_file).exists():
        pytest.skip(f"{path.name} reads {train_file}, which is not on this machine")
    spec = load_spec(path.relative_to(ROOT))
    assert spec.space
    if spec.resources.gpus_per_worker == 0:  # what it points at is on this machine too
        preflight(spec, str(path.relative_to(ROOT)))
    assert path.read_text().startswith(f"# basin run sweeps/{path.name}")
