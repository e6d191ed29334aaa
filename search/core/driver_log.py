"""Where the libraries' own output goes while basin drives a sweep: into ``driver.log`` in the
run directory, not onto the terminal, so a user sees basin's lines. ``--verbose`` leaves it
all on the terminal.

What it catches: the log records of Ray (its token-auth warning, ``Started a local Ray
instance``, ``Wrote the latest version of all result files``), Optuna (``A new study
created``), transformers, DeepSpeed and W&B, Python warnings, and what Ray Tune prints while it
fits (its configuration box, the ``View detailed results`` and TensorBoard hints). Records
that arrive before the run directory exists (Ray starts first) are held and written once it
does. A trial's own output is written by Ray into its trial folder (``log_to_file``).
"""

from __future__ import annotations

import contextlib
import io
import logging
import logging.handlers
import sys
from pathlib import Path
from typing import Iterator

from search.core.layout import DRIVER_LOG

LIBRARY_LOGGERS = ("ray", "optuna", "transformers", "DeepSpeed", "wandb", "filelock", "torch",
                   "py.warnings", "urllib3", "huggingface_hub", "datasets")
# W&B logs every call at DEBUG and INFO into its own files already (wandb/*/logs).
LEAST_LEVEL = {"wandb": logging.WARNING}
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _worth_keeping(record: logging.LogRecord) -> bool:
    library = record.name.split(".")[0]
    return record.levelno >= LEAST_LEVEL.get(library, logging.INFO)


class _DroppingFile(io.TextIOBase):
    """``driver.log``, on a disk that may fill: what cannot be written is dropped, never
    raised. Raised, it ended the sweep from inside Ray's printing, and each failed log record
    made logging print its own traceback to the terminal (613 of them in one full-disk sweep).
    The first loss is said once, in one line; the sweep's own full-disk line follows if the
    driver cannot go on (``search/cli/disk_full.py``)."""

    def __init__(self, path: Path):
        self.path = path
        self._file = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        self.lost = False

    def write(self, text: str) -> int:
        try:
            return self._file.write(text)
        except OSError as error:
            self._lose(error)
            return len(text)

    def flush(self) -> None:
        if self._file.closed:
            return
        try:
            self._file.flush()
        except OSError as error:
            self._lose(error)

    def close(self) -> None:
        self.flush()
        with contextlib.suppress(OSError):  # what is still buffered is dropped
            self._file.close()
        super().close()

    def _lose(self, error: OSError) -> None:
        if not self.lost:
            self.lost = True
            print(f"basin: {self.path}: cannot write ({error.strerror or error}); the "
                  "libraries' messages are dropped", file=sys.stderr)


class DriverLog:
    """Library output off the terminal, into the run directory's ``driver.log``."""

    def __init__(self, verbose: bool = False):
        self.verbose = verbose
        self._file: _DroppingFile | None = None
        # Holds records until the log file exists; never flushes on its own.
        self._held = logging.handlers.MemoryHandler(capacity=100_000,
                                                    flushLevel=logging.CRITICAL + 1)
        self._held.setFormatter(logging.Formatter(FORMAT))
        self._held.addFilter(_worth_keeping)
        self._saved: dict[str, tuple[list[logging.Handler], bool]] = {}
        self._target: logging.Handler | None = None

    def __enter__(self) -> DriverLog:
        if not self.verbose:
            # Importing Ray gives its logger a terminal handler of its own (its token-auth
            # warning then reaches the terminal): import it first, so that handler is swapped.
            with contextlib.suppress(ImportError):
                import ray  # noqa: F401
            logging.captureWarnings(True)
            for name in LIBRARY_LOGGERS:
                logger = logging.getLogger(name)
                self._saved[name] = (list(logger.handlers), logger.propagate)
                logger.handlers = [self._held]
                logger.propagate = False
        return self

    def __exit__(self, *exc) -> None:
        for name, (handlers, propagate) in self._saved.items():
            logger = logging.getLogger(name)
            logger.handlers, logger.propagate = handlers, propagate
        self._saved.clear()
        if not self.verbose:
            logging.captureWarnings(False)
        self._held.flush()
        self._held.close()
        if self._file is not None:
            self._file.close()
            self._file = None

    def write_to(self, folder: Path) -> None:
        """From now on (and what was held so far) into ``folder/driver.log``."""
        if self.verbose or self._file is not None:
            return
        self._file = _DroppingFile(folder / DRIVER_LOG)
        target = logging.StreamHandler(self._file)
        target.setFormatter(logging.Formatter(FORMAT))
        target.addFilter(_worth_keeping)
        self._held.setTarget(target)
        self._held.flush()
        self._target = target
        self._take_handlers()

    def _take_handlers(self) -> None:
        """The libraries' loggers write to the log only: a library imported since (DeepSpeed
        gives its logger a terminal handler on import) loses the handler it added."""
        for name in self._saved:
            logging.getLogger(name).handlers = [self._target]

    @contextlib.contextmanager
    def prints(self) -> Iterator[None]:
        """What libraries print to stdout meanwhile goes to the log (basin's console keeps the
        terminal: it holds its own reference to it). A library that sets up its logger while
        this lasts (DeepSpeed, on import) binds its handler to the log; leaving the
        ``DriverLog`` removes that handler again."""
        if self.verbose or self._file is None:
            yield
            return
        self._take_handlers()
        with contextlib.redirect_stdout(self._file):
            yield
        sys.stdout.flush()
