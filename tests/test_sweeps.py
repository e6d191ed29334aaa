"""Every sweep file shipped in sweeps/ loads, and opens with the command that launches it."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.spec import load_spec

SWEEPS = sorted((Path(__file__).parent.parent / "sweeps").glob("*.yaml"))


def test_there_are_sweeps():
    assert any(path.name == "minilm_lora.yaml" for path in SWEEPS)


@pytest.mark.parametrize("path", SWEEPS, ids=lambda p: p.name)
def test_sweep_file_is_valid(path):
    spec = load_spec(path)
    assert spec.space
    assert path.read_text().startswith(f"# basin run sweeps/{path.name}")
