"""A micro-batch too large for the GPU: ``basin train`` says so in one line, naming
``training.micro_batch_size``, its value and the change that keeps the batch, not CUDA's
traceback. CUDA's error is raised here by hand (no GPU needs to run out of memory);
``tests/trainables/recipe/test_gpu.py`` makes a real one on a GPU."""

from __future__ import annotations

import pytest
import torch

from search.cli.main import main
from trainables.trial.faults import is_machine_fault, out_of_memory, out_of_memory_line

CUDA_SAYS = ("CUDA out of memory. Tried to allocate 169.00 GiB. GPU 0 has a total capacity of "
             "79.19 GiB of which 78.50 GiB is free. Including non-PyTorch memory, this process "
             "has 696.00 MiB memory in use.")
ONE = ["--set", "space.learning_rate=0.005", "--set", "space.lora_r=4"]


def no_process_group(monkeypatch) -> None:
    """The training is replaced: no process group to join, no reports to print."""
    monkeypatch.setattr("search.lifecycle.foreground.join_process_group", lambda on_gpu: None)
    monkeypatch.setattr("search.lifecycle.foreground._reporter", lambda *args: None)


def test_the_line_names_the_setting_its_value_the_fix_and_cuda_s_figures() -> None:
    assert out_of_memory_line(torch.cuda.OutOfMemoryError(CUDA_SAYS), 4096, 1) == (
        "training.micro_batch_size: 4096 examples per micro-batch do not fit in the GPU's "
        "memory (CUDA out of memory: tried to allocate 169.00 GiB, of the device's 79.19 GiB); "
        "lower it and raise training.gradient_accumulation to keep 4096 examples per optimizer "
        "step, e.g. --set training.micro_batch_size=2048 --set training.gradient_accumulation=2")
    # An odd micro-batch: the fix keeps the batch exactly (9 x 2 = 3 x 6).
    assert out_of_memory_line(RuntimeError("CUDA error: out of memory"), 9, 2).endswith(
        "(CUDA out of memory); lower it and raise training.gradient_accumulation to keep 18 "
        "examples per optimizer step, e.g. --set training.micro_batch_size=3 --set "
        "training.gradient_accumulation=6")
    assert "even 1 example per micro-batch does not fit" in out_of_memory_line(
        torch.cuda.OutOfMemoryError(CUDA_SAYS), 1, 4)


def test_out_of_memory_is_found_in_the_chain_and_is_no_machine_fault() -> None:
    cuda = torch.cuda.OutOfMemoryError(CUDA_SAYS)
    try:
        try:
            raise cuda
        except RuntimeError as inner:
            raise ValueError("a library wrapped it") from inner
    except ValueError as wrapped:
        assert out_of_memory(wrapped) is cuda
        assert not is_machine_fault(wrapped)  # a retry runs out of memory again
    assert out_of_memory(RuntimeError("expected scalar type Float")) is None


def test_basin_train_says_one_line_and_no_traceback(sweep_factory, monkeypatch,
                                                    capsys) -> None:
    def out_of_memory_at_the_first_step(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError(CUDA_SAYS)

    monkeypatch.setattr("trainables.recipe.loop.train", out_of_memory_at_the_first_step)
    no_process_group(monkeypatch)
    sweep = sweep_factory()  # its micro-batch: 8
    code = main(["train", str(sweep), *ONE])
    said = capsys.readouterr().err
    assert code == 2
    assert said.strip().splitlines() == [
        f"{sweep}: training.micro_batch_size: 8 examples per micro-batch do not fit in the "
        "GPU's memory (CUDA out of memory: tried to allocate 169.00 GiB, of the device's 79.19 "
        "GiB); lower it and raise training.gradient_accumulation to keep 8 examples per "
        "optimizer step, e.g. --set training.micro_batch_size=4 --set "
        "training.gradient_accumulation=2"]
    # Set on the command line: the line blames the --set, as every sweep mistake does.
    assert main(["train", str(sweep), *ONE, "--set", "training.micro_batch_size=64"]) == 2
    assert capsys.readouterr().err.startswith(
        "--set training.micro_batch_size: 64 examples per micro-batch do not fit")


def test_other_errors_keep_their_traceback(sweep_factory, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("expected scalar type Float but found BFloat16")

    monkeypatch.setattr("trainables.recipe.loop.train", broken)
    no_process_group(monkeypatch)
    with pytest.raises(RuntimeError, match="expected scalar type"):
        main(["train", str(sweep_factory()), *ONE])
