"""What a user reaches for first: --version, each subcommand's own examples, basin ls."""

from __future__ import annotations

import os

import pytest

from search.cli.main import main
from search.cli.parser import EXAMPLES
from search.spec.model import load_spec
from search.store.driver_lock import DriverLock
from search.store.rundir import RunDir


def test_version_names_the_installed_package(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == "basin 0.1.0"


@pytest.mark.parametrize("command", sorted(EXAMPLES))
def test_each_subcommand_help_shows_its_own_examples(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    shown = [" ".join(line.split()) for line in capsys.readouterr().out.splitlines()]
    assert all(" ".join(line.split()) in shown for line in EXAMPLES[command])
    others = [line for name, lines in EXAMPLES.items() if name != command for line in lines]
    assert not any(" ".join(line.split()) in shown for line in others), command


def test_the_main_help_shows_the_python_api(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "import basin" in out and 'basin.run("sweeps/minilm_lora.yaml"' in out
    import basin

    for name in ("run", "load", "export", "train"):  # what the help names exists
        assert f"basin.{name}(" in out and callable(getattr(basin, name))


def test_ls_lists_run_directories_newest_first_and_a_damaged_one_too(sweep_factory, tmp_path,
                                                                      capsys):
    spec = load_spec(sweep_factory())
    older, newer = (tmp_path / "runs" / f"tiny-2026010{day}-120000" for day in (1, 2))
    for path in (older, newer):
        RunDir.create(spec)  # a real run directory (sweep.yaml, study), renamed to a fixed date
        made = max((tmp_path / "runs").glob("tiny-2*"), key=lambda p: p.stat().st_mtime_ns)
        made.rename(path)
    damaged = tmp_path / "runs" / "half-written"
    damaged.mkdir()
    (damaged / "sweep.yaml").write_text("name: [")
    assert main(["ls", str(tmp_path / "runs")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["run", "directory", "started", "trials", "best", "state"]
    names = [line.split()[0] for line in lines[1:]]
    assert names.index(newer.name) < names.index(older.name)
    row = next(line for line in lines if line.startswith(newer.name))
    assert "2026-01-02 12:00" in row and f"0/{spec.search.num_trials}" in row
    assert "interrupted (basin resume)" in row  # not finished, and no driver holds its lock
    assert "unreadable" in next(line for line in lines if line.startswith("half-written"))
    with DriverLock(newer, "runs/x") as driver:
        driver.acquire("resume")
        assert main(["ls", str(tmp_path / "runs")]) == 0
        lines = capsys.readouterr().out.splitlines()
    assert next(line for line in lines if line.startswith(newer.name)).split()[-1] == "running"
    assert "interrupted" in next(line for line in lines if line.startswith(older.name))


def test_status_tells_a_running_sweep_from_an_interrupted_one(sweep_factory, tmp_path, capsys):
    run = RunDir.create(load_spec(sweep_factory()))
    with DriverLock(run.path, run.shown) as driver:
        driver.acquire("run")
        assert main(["status", str(run.path)]) == 0
        running = capsys.readouterr().out
    assert f": running (basin run, process {os.getpid()} on " in running
    assert "min elapsed" in running and "basin resume" not in running
    # The driver gone (as after Ctrl-C or a kill): interrupted, and how to continue it.
    assert main(["status", str(run.path)]) == 0
    interrupted = capsys.readouterr().out
    assert ": interrupted, " in interrupted and "min before it stopped" in interrupted
    assert f"basin resume {run.path}" in interrupted


def test_ls_of_a_missing_or_empty_folder(tmp_path, capsys):
    assert main(["ls", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err.strip() == f"{tmp_path / 'nowhere'}: no such folder"
    assert main(["ls", str(tmp_path)]) == 0
    assert "no run directories" in capsys.readouterr().out
