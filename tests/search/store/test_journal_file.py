"""A torn or garbage tail of the study's journal: read around it, set it aside, never destroy."""

from __future__ import annotations

import optuna
import pytest

from search.core.layout import JOURNAL_FILE
from search.store.journal import read_journal, repair_journal
from search.store.rundir import RunDir
from search.store.study import open_storage, open_to_read


@pytest.fixture
def journal(tmp_path):
    """A study with three finished trials in a journal file."""
    study = optuna.create_study(study_name="s", storage=open_storage(tmp_path, None))
    for value in (0.3, 0.2, 0.1):
        trial = study.ask()
        trial.suggest_float("x", 0, 1)
        study.tell(trial, value)
    return tmp_path / JOURNAL_FILE


def trials_read(folder) -> list[float]:
    storage, _ = open_to_read(folder, None)
    return [t.value for t in optuna.load_study(study_name="s", storage=storage).trials]


@pytest.mark.parametrize("tail, lines", [
    (b'{"op_code": 6, "worker_id": "w", "trial_id": 3, "param', 1),  # torn by SIGKILL
    (b"\x00\x00garbage\n", 1),
    (b'not json\n{"op_code": 0}\n', 2),  # a bad line hides what follows it
], ids=["torn", "garbage", "garbage-then-more"])
def test_a_damaged_tail_is_read_around_then_set_aside(journal, tail, lines):
    whole = journal.read_bytes()
    records, damage = read_journal(journal)
    assert damage is None
    journal.write_bytes(whole + tail)

    assert trials_read(journal.parent) == [0.3, 0.2, 0.1]  # read-only: every complete trial
    assert journal.read_bytes() == whole + tail  # ... and the file untouched
    _, damage = read_journal(journal)
    assert (damage.kept_records, damage.bad_lines, damage.bad_bytes) == \
        (len(records), lines, len(tail))
    assert "ignored" in damage.describe() and "basin resume repairs" in damage.describe()

    repaired = repair_journal(journal)
    assert journal.read_bytes() == whole
    assert repaired.set_aside.read_bytes() == tail  # nothing destroyed
    assert f"moved to {repaired.set_aside.name}" in repaired.describe()
    assert repair_journal(journal) is None

    # The writer goes on from the last complete record.
    study = optuna.create_study(study_name="s", storage=open_storage(journal.parent, None),
                                load_if_exists=True)
    study.tell(study.ask(), 0.05)
    assert trials_read(journal.parent) == [0.3, 0.2, 0.1, 0.05]


def test_status_reads_a_run_whose_journal_is_torn(journal, tmp_path, sweep_factory):
    (tmp_path / "sweep.yaml").write_text(sweep_factory().read_text().replace("name: tiny",
                                                                             "name: s"))
    journal.write_bytes(journal.read_bytes() + b'{"op_code": 6, "wor')
    run = RunDir(tmp_path)
    assert [t.value for t in run.study().trials] == [0.3, 0.2, 0.1]
    assert run.journal_damage.bad_bytes == len(b'{"op_code": 6, "wor')
    with pytest.raises(PermissionError):
        run.study().ask()  # status and best never write to the study


def test_a_renamed_run_directory_still_finds_its_study(journal, tmp_path, sweep_factory):
    # The study is named after the run directory ("s" here); the user renamed the folder since.
    (tmp_path / "sweep.yaml").write_text(sweep_factory().read_text())
    run = RunDir(tmp_path)
    assert run.path.name != "s" and run.spec.name != "s"
    assert [t.value for t in run.study().trials] == [0.3, 0.2, 0.1]
