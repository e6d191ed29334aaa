"""``basin train``: one configuration in this process, without Ray, Optuna or W&B."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from search.cli.main import main
from search.core.errors import SpecError
from search.lifecycle.foreground import gpus_problem, one_configuration
from search.spec.model import load_spec

PROJECT = Path(__file__).resolve().parents[3]
ONE = ["--set", "space.learning_rate=0.005", "--set", "space.lora_r=4"]


def test_a_range_is_refused_naming_it_and_the_fix(sweep_factory) -> None:
    spec = load_spec(sweep_factory())
    with pytest.raises(SpecError) as refused:
        one_configuration(spec, "sweep.yaml")
    assert refused.value.problems == [
        "sweep.yaml: space.learning_rate: basin train trains one configuration, and this is a "
        "range; give it a value, e.g. --set space.learning_rate=...",
        "sweep.yaml: space.lora_r: basin train trains one configuration, and this is a range; "
        "give it a value, e.g. --set space.lora_r=..."]
    assert one_configuration(load_spec(sweep_factory(), ONE[1::2]), "x") == {
        "learning_rate": 0.005, "lora_r": 4, "lora_dropout": 0.0}


def test_gpus_asked_for_on_a_machine_without_cuda_are_refused(sweep_factory, capsys) -> None:
    spec = load_spec(sweep_factory(), ["resources.gpus_per_worker=1"])
    assert gpus_problem(spec, cuda_available=False).startswith(
        "resources.gpus_per_worker: the sweep asks for 1 GPU per worker and this machine has no "
        "CUDA device")
    assert gpus_problem(spec, cuda_available=True) is None
    if not __import__("torch").cuda.is_available():
        code = main(["train", str(sweep_factory()), *ONE, "--set",
                     "resources.gpus_per_worker=1"])
        assert code == 2 and "no CUDA device" in capsys.readouterr().err


@pytest.mark.integration  # trains (DeepSpeed on CPU)
def test_basin_train_trains_and_keeps_every_evaluation(sweep_factory, tmp_path, capsys) -> None:
    out = tmp_path / "trained"
    assert main(["train", str(sweep_factory()), *ONE, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    steps = sorted(int(json.loads(f.read_text())["step"])
                   for f in out.glob("candidates/*/trial_metrics.json"))
    assert steps == [4, 8, 12]
    assert printed.count("train_loss") == 3 and "its checkpoint: " in printed
    # Each evaluation's line is whole at 80 columns (the terminal would cut it mid-number).
    assert all(len(line) <= 80 for line in printed.splitlines() if "train_loss" in line)
    assert (out / "candidates").is_dir() and not list(out.glob("*/deepspeed"))


@pytest.mark.integration  # trains (DeepSpeed on CPU)
def test_basin_train_needs_no_ray(sweep_factory, tmp_path) -> None:
    """The trial side imports without Ray: here ``import ray`` fails, and training works."""
    sweep = sweep_factory()
    script = ("import sys\nsys.modules['ray'] = None  # any import of ray now fails\n"
              "from search.cli.main import main\n"
              f"code = main(['train', {str(sweep)!r}, *{ONE!r}, '--out', "
              f"{str(tmp_path / 'out')!r}])\n"
              "assert not any(m == 'ray' or m.startswith('ray.') for m in sys.modules "
              "if sys.modules[m] is not None)\nraise SystemExit(code)")
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(list((tmp_path / "out").glob("candidates/*"))) == 3
