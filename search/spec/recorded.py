"""Reading the sweep file a run directory recorded (``sweep.yaml``, every field written out).

basin writes every setting it knows into a run's ``sweep.yaml``. A setting a later basin no
longer takes would make that run unreadable (``basin best``, ``plots``, ``export`` and
``resume`` all read it), although the user never wrote it. Such settings are dropped here, for
recorded files only: a sweep file a user writes still gets the message that says what replaced
them (``search/spec/model.py``, ``trainables/check/settings.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from search.spec.model import SweepSpec, validate_spec
from search.spec.yaml_reading import read_spec_file

# (block, key) of settings that earlier versions recorded in every run and this one refuses.
# check.general_samples (basin 0.2, before retention moved into the trials): the run's check
# measured drift; its results stay readable, the setting means nothing now.
# search.multi_objective (removed in basin 0.2): a run that searched two objectives stays
# readable; its study keeps both.
RETIRED: tuple[tuple[str, str], ...] = (("check", "general_samples"),
                                        ("search", "multi_objective"))
# (block, key): values earlier versions recorded and this one refuses. scheduler.thaw forecast
# and model (removed in basin 0.2, measured worse than rank): the run stays readable, and a
# resumed one thaws by rank (the default).
RETIRED_VALUES: dict[tuple[str, str], tuple[Any, ...]] = {("scheduler", "thaw"): ("forecast",
                                                                                   "model")}


def without_retired(raw: Any) -> Any:
    """``raw`` with the retired settings taken out (the rest as it is)."""
    if not isinstance(raw, dict):
        return raw
    raw = dict(raw)
    for block, key in RETIRED:
        if isinstance(raw.get(block), dict) and key in raw[block]:
            raw[block] = {k: v for k, v in raw[block].items() if k != key}
    for (block, key), values in RETIRED_VALUES.items():
        if isinstance(raw.get(block), dict) and raw[block].get(key) in values:
            raw[block] = {k: v for k, v in raw[block].items() if k != key}
    return raw


def load_recorded_spec(path: Path) -> SweepSpec:
    """The spec of a run directory's ``sweep.yaml``, written by this or an earlier basin."""
    return validate_spec(without_retired(read_spec_file(path)), str(path))
