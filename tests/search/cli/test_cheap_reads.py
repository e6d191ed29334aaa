"""Reading a finished run (``basin best``, ``status``, ``ls``) and ``basin --version`` import
neither Ray Tune nor torch (seconds of imports for an answer that needs neither)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from search.report.results import write_results
from search.spec.model import load_spec
from search.store.reading import RunReading
from search.store.rundir import RunDir

HEAVY = ("ray.tune", "ray", "torch", "transformers", "deepspeed", "peft")


@pytest.fixture
def finished_run(sweep_factory) -> RunDir:
    """A run directory as a sweep leaves it: one trial with two evaluations and a candidate
    each, results.json written."""
    run = RunDir.create(load_spec(sweep_factory()))
    folder = run.path / "abcdef12"
    (folder / "candidates").mkdir(parents=True)
    (folder / "params.json").write_text(json.dumps({"learning_rate": 1e-3, "lora_r": 2, "lora_dropout": 0.0}))
    rows = [{"step": step, "val_loss": loss, "train_eval_loss": loss - 0.1, "gap": 0.1,
             "is_final": step == 8} for step, loss in ((4, 0.6), (8, 0.5))]
    (folder / "result.json").write_text("".join(json.dumps(row) + "\n" for row in rows))
    for row in rows:
        candidate = folder / "candidates" / f"step_{row['step']:08d}"
        candidate.mkdir()
        (candidate / "trial_metrics.json").write_text(json.dumps(row))
    write_results(RunReading(run))
    return run


@pytest.mark.parametrize("command", [["best", "{run}"], ["status", "{run}"], ["ls", "{runs}"],
                                     ["--version"]])
def test_reading_commands_import_neither_ray_tune_nor_torch(finished_run: RunDir,
                                                            command: list[str]) -> None:
    argv = [part.format(run=finished_run.path, runs=finished_run.path.parent)
            for part in command]
    script = ("import sys\nfrom search.cli.main import main\n"
              f"try:\n    code = main({argv!r})\nexcept SystemExit as end:\n    code = end.code\n"
              f"print([m for m in {HEAVY!r} if m in sys.modules], code)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[3], timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] in ("[] 0", "[] None"), done.stdout[-2000:]
