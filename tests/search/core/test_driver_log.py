"""The driver log takes the libraries' output off the terminal, and a full disk under it
costs one line, not a flood of logging's own tracebacks or the sweep."""

from __future__ import annotations

import logging
import sys

from search.core.driver_log import DriverLog


def test_library_records_and_prints_go_to_the_run_directory(tmp_path, capsys):
    with DriverLog() as log:
        logging.getLogger("ray.tune").warning("before the run directory exists")
        log.write_to(tmp_path)
        logging.getLogger("optuna").warning("A new study created")
        with log.prints():
            print("Ray Tune's configuration box")
    written = (tmp_path / "driver.log").read_text()
    for line in ("before the run directory exists", "A new study created",
                 "Ray Tune's configuration box"):
        assert line in written
    assert capsys.readouterr().out == ""


def test_a_full_disk_under_the_log_costs_one_line(tmp_path, capsys):
    (tmp_path / "driver.log").symlink_to("/dev/full")  # every write: ENOSPC
    with DriverLog() as log:
        log.write_to(tmp_path)
        for attempt in range(50):
            try:
                raise OSError(28, "No space left on device")
            except OSError:
                logging.getLogger("ray.tune.syncer").exception("sync failed %d", attempt)
        with log.prints():
            print("Ray Tune's configuration box")
            sys.stdout.flush()
    err = capsys.readouterr().err
    assert err.splitlines() == [f"basin: {tmp_path / 'driver.log'}: cannot write (No space left "
                                "on device); the libraries' messages are dropped"]
