"""On a CUDA device only (``pytest -m gpu``; they skip elsewhere, and benchmarks/gpu_check.py
runs them on a lent GPU machine): what no CPU run exercises. "auto" precision is bf16; the
recipe's DeepSpeed engine trains LoRA in bf16 under ZeRO 0, 2 and 3 and its checkpoint holds
the trained adapter (gathered from its partitions under ZeRO-3); a real CUDA out-of-memory
error reaches the user as basin's one line. No tokenizer is needed: the batches are random ids.
"""

from __future__ import annotations

import pytest
import torch

from tests.conftest import TINY_LLAMA

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]
ONE = ["--set", "space.learning_rate=0.005", "--set", "space.lora_r=4"]


@pytest.fixture(scope="module")
def nccl_group() -> None:
    """This process as a group of one on NCCL, as ``basin train`` on one GPU makes it."""
    import torch.distributed as dist

    from trainables.trial.entry import init_single_process_group

    if not dist.is_initialized():
        init_single_process_group("nccl")
    elif dist.get_backend() != "nccl":
        pytest.skip("an earlier test made a gloo group in this process; run with -m gpu")


def test_auto_precision_is_bf16_on_this_gpu() -> None:
    from trainables.recipe.ds_config import resolve_precision

    assert torch.cuda.is_bf16_supported()
    assert resolve_precision("auto", on_gpu=True) == "bf16"


def _engine(stage: int):
    """The recipe's engine (build_ds_config, deepspeed.initialize) on a tiny random Llama."""
    import deepspeed
    from transformers import AutoConfig, AutoModelForCausalLM

    from trainables.models.lora import apply_lora
    from trainables.recipe.ds_config import build_ds_config
    from trainables.settings import (
        DeepSpeedSettings,
        Hyperparameters,
        ModelSettings,
        TrainingSettings,
    )

    torch.manual_seed(0)
    hp = Hyperparameters(learning_rate=1e-2, lora_r=4, lora_dropout=0.0)
    model = apply_lora(AutoModelForCausalLM.from_config(AutoConfig.for_model(**TINY_LLAMA)),
                       ModelSettings(name="tiny", lora_target_modules=["q_proj", "v_proj"]),
                       hp, task_type="CAUSAL_LM")
    config = build_ds_config(TrainingSettings(max_steps=4, micro_batch_size=4, precision="auto"),
                             DeepSpeedSettings(zero_stage=stage), hp, total_steps=4,
                             world_size=1, on_gpu=True)
    engine, _, _, _ = deepspeed.initialize(
        model=model, model_parameters=[p for p in model.parameters() if p.requires_grad],
        config=config, dist_init_required=False)
    return engine


@pytest.mark.parametrize("stage", [0, 2, 3])
def test_the_recipe_s_engine_trains_lora_in_bf16_and_saves_the_adapter(
        stage: int, nccl_group: None, tmp_path) -> None:
    import shutil

    from safetensors.torch import load_file

    from trainables.recipe.checkpoint import save_checkpoint

    engine = _engine(stage)
    try:
        assert engine.bfloat16_enabled()
        ids = torch.randint(0, TINY_LLAMA["vocab_size"], (4, 16), device="cuda")
        for _ in range(4):
            loss = engine(input_ids=ids, attention_mask=torch.ones_like(ids), labels=ids).loss
            assert torch.isfinite(loss)
            engine.backward(loss)
            engine.step()
        folder = save_checkpoint(engine, {"step": 4}, {}, {"step": 4}, rank=0, zero_stage=stage)
        adapter = load_file(f"{folder}/adapter_model.safetensors")
        shutil.rmtree(folder, ignore_errors=True)
    finally:
        engine.destroy()
    lora_b = [tensor for name, tensor in adapter.items() if "lora_B" in name]
    assert len(lora_b) == 2 * TINY_LLAMA["num_hidden_layers"]  # q and v of every layer
    # B starts at zero: a trained, gathered adapter has moved it (ZeRO-3 saves whole tensors).
    assert all(t.shape == (32 if "q_proj" in n else 16, 4) for n, t in adapter.items()
               if "lora_B" in n)
    assert any(float(tensor.abs().max()) > 0 for tensor in lora_b)


def test_a_real_cuda_out_of_memory_is_told_in_one_line(sweep_factory, monkeypatch,
                                                       capsys) -> None:
    from search.cli.main import main

    def far_too_large(*args, **kwargs):
        torch.empty(1 << 50, dtype=torch.uint8, device="cuda")  # a pebibyte

    monkeypatch.setattr("trainables.recipe.loop.train", far_too_large)
    monkeypatch.setattr("search.lifecycle.foreground.join_process_group", lambda on_gpu: None)
    monkeypatch.setattr("search.lifecycle.foreground._reporter", lambda *args: None)
    code = main(["train", str(sweep_factory()), *ONE])
    said = capsys.readouterr().err
    assert code == 2 and "Traceback" not in said
    assert "training.micro_batch_size: 8 examples per micro-batch do not fit" in said
    assert "(CUDA out of memory: tried to allocate " in said
