"""Start-up of every Python process the test suite starts (``tests/conftest.py`` puts this
folder on ``PYTHONPATH``): install the network guard (``basin_network_guard.py``) when
``BASIN_NETWORK_GUARD`` names its log, then run the ``sitecustomize`` this file hides, if the
environment has one."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys


def _install() -> None:
    log = os.environ.get("BASIN_NETWORK_GUARD")
    if log:
        import basin_network_guard

        basin_network_guard.install(log)


def _run_the_hidden_one() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    rest = [entry for entry in sys.path if os.path.abspath(entry or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is not None and spec.loader is not None:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)


_install()
_run_the_hidden_one()
