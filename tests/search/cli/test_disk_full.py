"""A disk that fills under the driver ends the command with one line that names the folder, its
free space and the command that continues (ENOSPC simulated where the driver meets it: inside
the sweep, after the run directory exists)."""

from __future__ import annotations

import errno

from search.cli.disk_full import no_space_error, no_space_line
from search.cli.main import main
from search.lifecycle import run as running
from search.lifecycle import start as starting
from search.store.rundir import RunDir


def test_a_full_disk_ends_the_sweep_with_one_line(sweep_factory, monkeypatch, capsys) -> None:
    created: list[RunDir] = []

    def start(spec, source, address=None):  # the run directory, without starting Ray
        created.append(RunDir.create(spec))
        return created[-1]

    def run(spec, run_dir, quiet=False, log=None):
        try:
            raise OSError(errno.ENOSPC, "No space left on device",
                          str(run_dir.path / "abcd1234" / "result.json"))
        except OSError as error:  # as Ray's syncer wraps it
            raise RuntimeError("Failed to sync the experiment state") from error

    monkeypatch.setattr(starting, "start", start)
    monkeypatch.setattr(running, "run_trials", run)
    assert main(["run", str(sweep_factory())]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    (run_dir,) = created
    assert len(err) == 1, err
    assert err[0].startswith(f"basin: no space left on device writing into "
                             f"{run_dir.path / 'abcd1234'} (")
    assert "MiB free there" in err[0]
    assert err[0].endswith(f"then continue the sweep with: basin resume {run_dir.location}")
    assert "Traceback" not in capsys.readouterr().out


def test_other_os_errors_are_not_taken_for_a_full_disk() -> None:
    assert no_space_error(PermissionError(errno.EACCES, "Permission denied")) is None
    quota = OSError(errno.EDQUOT, "Disk quota exceeded", "/nowhere/at/all/file")
    assert no_space_error(quota) is quota
    line = no_space_line(quota, None)
    assert line.startswith("basin: disk quota exceeded writing into /nowhere/at/all (")
    assert "MiB free there" in line  # of the nearest folder that exists: /
    assert line.endswith("then run the command again")
