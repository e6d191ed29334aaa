"""The causal-LM task end to end: real Ray, real DeepSpeed, a tiny random Llama on CPU (with the
built-in SmolLM2's tokenizer and chat template), and one slow run of the real SmolLM2."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pandas
import pytest
from safetensors.torch import load_file

from search.cli.main import main
from search.lifecycle.run import run_trials
from search.spec.model import load_spec
from search.store import trial_folder
from search.store.records import collect_records
from search.store.rundir import RunDir
from tests.conftest import TINY_LLAMA, tiny_sweep, write_sweep
from tests.integration.retrain import figures, retrained
from tests.integration.test_sweep_end_to_end import run_spec
from trainables.contract import REPORTED_METRICS
from trainables.tasks import TASKS

pytestmark = pytest.mark.integration

def causal_sweep(tmp_path, **sections) -> dict:
    """The tiny sweep as a causal-LM instruction sweep on the built-in instruction task."""
    sweep = tiny_sweep(
        tmp_path,
        name="tiny-sft",
        model={"name": "tiny-llama", "task": "causal-lm", "random_init_config": TINY_LLAMA,
               "lora_target_modules": ["q_proj", "v_proj"]},
        data={"source": "demo", "demo": {"train_size": 32, "validation_size": 16,
                                         "test_size": 16, "label_noise": 0.2},
              "system_prompt": "Be brief.", "max_length": 48, "train_eval_samples": 16},
        generation={"exact_match_samples": 4, "max_new_tokens": 4},
        training={"max_steps": 8, "eval_every": 4, "micro_batch_size": 4},
        space={"learning_rate": 0.01, "lora_r": 4, "lora_dropout": 0.0},
    )
    sweep.update(sections)
    return sweep


def test_a_causal_lm_sweep_reports_exports_and_its_merged_model_generates(tmp_path, capsys):
    # Kept whole, to look inside a resume checkpoint (the keep policy: test_keep_policy.py).
    path = write_sweep(tmp_path / "sft.yaml", causal_sweep(tmp_path, keep={"per_trial": None}))
    assert main(["run", str(path), "--quiet"]) == 0
    (run_dir,) = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    run = RunDir.open(run_dir)
    (record,) = collect_records(run)
    assert record.outcome.status == "completed" and sorted(record.checkpoints) == [4, 8]
    (folder,) = run.trial_folders().values()
    history = pandas.DataFrame(trial_folder.history(folder))
    for name in (*REPORTED_METRICS, *TASKS["causal-lm"].metrics):
        assert name in history, name
    last = history.iloc[-1]
    assert last["val_perplexity"] == pytest.approx(math.exp(last["val_loss"]))
    assert 0 <= last["val_exact_match"] <= 1 and last["train_truncated"] == 0
    # The baseline is the untuned model's validation loss: the same in every report.
    assert history["baseline_loss"].nunique() == 1
    assert (run_dir / "best.yaml").is_file()
    capsys.readouterr()
    assert main(["best", str(run_dir)]) == 0
    assert "val_loss" in capsys.readouterr().out
    # Retention at every evaluation: a KL, so never negative, and how long it took.
    # drift, the answer-loss excess, may dip just below 0; its companion, the KL, may not.
    assert history["drift"].notna().all() and (history["drift_seconds"] > 0).all()
    assert (history["drift_kl"] >= 0).all()
    results = json.loads((run_dir / "results.json").read_text())
    assert results["front"] and all("drift" in entry for entry in results["front"])
    assert results["choice"]["chosen"]["drift"] == history.set_index("step").loc[
        results["choice"]["chosen"]["step"], "drift"]
    assert (run_dir / "front.png").stat().st_size > 0
    assert main(["best", str(run_dir), "--front"]) == 0
    shown = capsys.readouterr().out
    assert "the front of val_loss (min) and drift" in shown and "handed on" in shown
    # Only the adapter goes into a resume checkpoint: not the frozen (tied) embedding.
    resume = next(folder.glob("checkpoint_*/deepspeed/state/mp_rank_00_model_states.pt"))
    assert resume.stat().st_size < 1_000_000

    bundle = tmp_path / "bundle"
    assert main(["export", str(run_dir), "--out", str(bundle), "--no-verify"]) == 0
    weights = load_file(bundle / "adapter_model.safetensors")
    assert len([n for n in weights if ".lora_" in n]) == 2 * 2 * 2
    metrics = json.loads((bundle / "metrics.json").read_text())
    assert metrics["task"] == "causal-lm" and "label_names" not in metrics


def test_export_of_a_causal_lm_verifies_and_merges_into_a_model_that_generates(
        tiny_llama_folder, tmp_path):
    sweep = causal_sweep(tmp_path, model={"name": str(tiny_llama_folder), "task": "causal-lm",
                                          "lora_target_modules": ["q_proj", "v_proj"]})
    run, _ = run_spec(load_spec(write_sweep(tmp_path / "sft.yaml", sweep)))
    bundle = tmp_path / "bundle"
    assert main(["export", str(run.path), "--out", str(bundle), "--merge"]) == 0
    metrics = json.loads((bundle / "metrics.json").read_text())
    assert metrics["verified_max_difference"] < 1e-4
    probe = json.loads((bundle / "probe.json").read_text())
    script = f"""
import json
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer
tokenizer = AutoTokenizer.from_pretrained("{bundle}/merged")
model = AutoModelForCausalLM.from_pretrained("{bundle}/merged").eval()
messages = [{{"role": "user", "content": "What is 2 + 3?"}}]
inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True,
                                       return_tensors="pt", return_dict=True)
out = model.generate(**inputs, max_new_tokens=5, do_sample=False)
# The merged model's mean token loss on each probe chat's answer, as the trial measured it.
probe = json.load(open("{bundle}/probe.json"))
losses = []
with torch.no_grad():
    for ids, labels in zip(probe["input_ids"], probe["labels"]):
        logits = model(input_ids=torch.tensor([ids])).logits[0, :-1]
        losses.append(float(torch.nn.functional.cross_entropy(
            logits, torch.tensor(labels[1:]), ignore_index=-100)))
print(json.dumps({{"new_tokens": int(out.shape[1] - inputs["input_ids"].shape[1]),
                  "answer": tokenizer.decode(out[0, inputs["input_ids"].shape[1]:]),
                  "losses": losses}}))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["new_tokens"] >= 1
    assert len(probe["answers"]) == len(probe["losses"]) > 0
    # merged/ computes what the trial's model computed at that step (not only some tokens).
    assert answer["losses"] == pytest.approx(probe["losses"], abs=1e-4)


def test_a_two_worker_zero2_causal_lm_trial(tmp_path):
    spec = load_spec(write_sweep(tmp_path / "sft.yaml", causal_sweep(
        tmp_path, deepspeed={"zero_stage": 2},
        resources={"workers": 2, "cpus_per_worker": 0.5})))
    run, folder = run_spec(spec)
    history = pandas.DataFrame(trial_folder.history(folder))
    assert history["world_size"].tolist() == [2, 2]
    assert all(math.isfinite(v) for v in history["gap"])
    assert 0 <= history["val_exact_match"].iloc[-1] <= 1
    assert (history["drift_kl"] >= 0).all()  # both workers measured it; rank 0 reports it
    (record,) = collect_records(run)
    assert record.outcome.status == "completed" and sorted(record.checkpoints) == [4, 8]


@pytest.mark.slow
def test_the_real_smollm2_learns_and_trains_alike_on_a_warm_worker(tmp_path):
    # Two trials on one warm slot: the second finds the first's kept base weights, baseline
    # and base side of the drift, and must train exactly as basin train does in a new process.
    sweep = causal_sweep(
        tmp_path, model={"name": "builtin:smollm2-135m-instruct", "task": "causal-lm",
                         "lora_target_modules": ["q_proj", "v_proj"]},
        training={"max_steps": 6, "eval_every": 3, "micro_batch_size": 8},
        space={"learning_rate": {"type": "float", "low": 1e-3, "high": 3e-3, "log": True},
               "lora_r": 8, "lora_dropout": 0.1},
        search={"num_trials": 2, "max_concurrent_trials": 1, "seed": 0, "sampler": "random"},
        resources={"warm_workers": True}, tracking={"wandb": {"mode": "disabled"}})
    sweep["data"]["demo"] = {"train_size": 16, "validation_size": 16, "test_size": 0,
                             "label_noise": 0.0}
    file = write_sweep(tmp_path / "sft.yaml", sweep)
    run = RunDir.create(load_spec(file))
    run_trials(run.spec, run, quiet=True)
    histories = sorted((trial_folder.history(folder) for folder in run.trial_folders().values()),
                       key=lambda rows: rows[0]["warm_start"])
    # The pretrained model answers at length; a few steps teach it the short answers.
    first, second = histories
    assert first[-1]["val_loss"] < first[0]["baseline_loss"]
    assert (first[0]["warm_start"], second[0]["warm_start"]) == (False, True)
    assert first[0]["worker_pid"] == second[0]["worker_pid"]
    params = json.loads((run.trial_folders()[second[0]["trial_id"]] / "params.json").read_text())
    twin = retrained(file, params, tmp_path / "fresh")
    assert {row["step"]: figures(row) for row in second} == twin
