"""Settings that cannot work together are said, with their numbers; split sizes are counted as
the trials will see them."""

from __future__ import annotations

from search.cli.main import main
from search.spec.model import load_spec
from search.spec.sanity import describe_splits, split_sizes, warnings


def _small_files_sweep(sweep_factory, tmp_path, rows: int = 16, **sections):
    data = tmp_path / "small.tsv"
    data.write_text("sentence\tlabel\n" + "".join(f"item {i} here\t{i % 2}\n"
                                                  for i in range(rows)))
    return sweep_factory(data={"source": "files", "train_file": str(data),
                               "text_column": "sentence", "validation_fraction": 0.25,
                               "train_eval_samples": 128}, **sections)


def test_settings_that_cannot_work_are_each_a_line_with_numbers(sweep_factory, tmp_path):
    spec = load_spec(_small_files_sweep(
        sweep_factory, tmp_path, training={"max_steps": 30, "eval_every": 40},
        stopping={"gap": {"grace_steps": 30}, "not_learning": {"grace_steps": 10}},
        scheduler={"type": "asha", "grace_period": 30}))
    sizes = split_sizes(spec)
    assert sizes == {"train": 12, "validation": 4, "test": 0}
    assert describe_splits(sizes) == "data: 12 train / 4 validation / no test rows"
    assert warnings(spec, sizes) == [
        "training.eval_every: 40 is beyond training.max_steps 30: one evaluation, at the last "
        "step",
        "stopping.gap.grace_steps: 30 is not below training.max_steps 30: the rule can never "
        "stop a trial",
        "scheduler.grace_period: 30 leaves no rung before the last step (30): asha never acts",
        "data.train_eval_samples: 128 is more than the 12 training rows; the gap is measured "
        "on all 12",
        "data: the validation split has 4 rows: its loss is too noisy to choose a checkpoint "
        "by (at least 30; a few hundred are better)",
    ]


def test_a_sensible_sweep_has_no_warning(sweep_factory, tmp_path):
    spec = load_spec(_small_files_sweep(sweep_factory, tmp_path, rows=400,
                                        training={"max_steps": 40, "eval_every": 10},
                                        scheduler={"type": "asha", "grace_period": 20}))
    assert split_sizes(spec) == {"train": 300, "validation": 100, "test": 0}
    assert warnings(spec, split_sizes(spec)) == []
    # A rule that is off, and FIFO scheduling, warn of nothing either.
    off = load_spec(_small_files_sweep(sweep_factory, tmp_path, rows=400,
                                       training={"max_steps": 40, "eval_every": 10},
                                       stopping={"gap": {"enabled": False, "grace_steps": 50}},
                                       scheduler={"type": "fifo", "grace_period": 40}))
    assert warnings(off, split_sizes(off)) == []


def test_validate_prints_the_splits_and_the_warnings(sweep_factory, tmp_path, capsys):
    sweep = _small_files_sweep(sweep_factory, tmp_path, training={"max_steps": 30,
                                                                  "eval_every": 10})
    assert main(["validate", str(sweep)]) == 0  # warnings do not refuse the sweep
    out = " ".join(capsys.readouterr().out.split())
    assert "data: 12 train / 4 validation / no test rows" in out
    assert "warning: data.train_eval_samples: 128 is more than the 12 training rows" in out
