"""From sweep to production: status, best, plots, confirm and export, run as a user would."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import matplotlib.image
import pytest
import ray
import yaml

from search.cli.main import main
from search.spec.model import load_spec
from search.store.rundir import RunDir
from search.store.study import STATUS_ATTR

pytestmark = pytest.mark.integration


def only_run_dir(folder):
    (run_dir,) = [p for p in folder.iterdir() if p.is_dir()]
    return run_dir


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory, tiny_pretrained):
    """A finished 3-trial sweep on a saved tiny model; trials run to the end (FIFO, no pruning)."""
    from tests.conftest import tiny_sweep, write_sweep

    folder = tmp_path_factory.mktemp("finished")
    sweep = tiny_sweep(folder, model={"name": str(tiny_pretrained),
                                      "lora_target_modules": ["query", "value"]},
                       space={"learning_rate": {"type": "float", "low": 1e-4, "high": 0.02,
                                                "log": True},
                              "lora_r": 4},
                       search={"num_trials": 3, "max_concurrent_trials": 2, "seed": 0,
                               "sampler": "random"},
                       tracking={"wandb": {"mode": "disabled"}},
                       # Every evaluation stays exportable (the keep policy: test_keep_policy).
                       keep={"per_trial": None})
    assert main(["run", str(write_sweep(folder / "sweep.yaml", sweep)), "--quiet"]) == 0
    return only_run_dir(folder / "runs")


def test_plots_are_written_and_not_blank(finished_sweep):
    for name in ("learning_curves", "gap", "objective_vs_params", "param_importances",
                 "optimization_history", "parallel_coordinates"):
        path = finished_sweep / f"{name}.png"
        assert path.stat().st_size > 10_000, name
        pixels = matplotlib.image.imread(path)
        assert pixels.shape[0] > 300 and pixels.std() > 0.05, name  # drawn on, not blank


def test_best_names_the_chosen_checkpoint_ranks_trials_and_filters_by_gap(finished_sweep,
                                                                         capsys):
    assert main(["best", str(finished_sweep), "--top", "2"]) == 0
    output = capsys.readouterr().out
    results = json.loads((finished_sweep / "results.json").read_text())
    ranked = [t["trial_id"] for t in results["trials"]]
    assert ranked[0] == results["best_trial"]
    assert f"chosen: trial {ranked[0]} at step {results['best_step']}" in output
    assert "why: objective: the best val_loss" in output
    table = output[output.index("\ntrial "):output.index("\nat step, ")]
    assert ranked[0] in table and ranked[1] in table and ranked[2] not in table
    assert table.index(ranked[0]) < table.index(ranked[1])
    # Only candidates whose gap is within the limit (the sweep has no gap rule: give one).
    assert main(["best", str(finished_sweep), "--within-gap-limit", "0.3"]) == 0
    output = capsys.readouterr().out
    assert "candidates with gap within 0.30" in output
    chosen = next(line for line in output.splitlines() if line.startswith("chosen:"))
    trial_id, step = chosen.split()[2], int(chosen.split()[5])
    trial = next(t for t in results["trials"] if t["trial_id"] == trial_id)
    assert next(e for e in trial["evaluations"] if e["step"] == step)["gap"] <= 0.3


def test_export_bundle_loads_in_a_fresh_process_with_the_trials_predictions(
        finished_sweep, tiny_pretrained, tmp_path, capsys):
    bundle = tmp_path / "bundle"
    assert main(["export", str(finished_sweep), "--out", str(bundle), "--merge"]) == 0
    assert "verified" in capsys.readouterr().out
    for name in ("adapter_config.json", "adapter_model.safetensors", "tokenizer.json",
                 "config.yaml", "metrics.json", "versions.json", "probe.json", "merged"):
        assert (bundle / name).exists(), name
    metrics = json.loads((bundle / "metrics.json").read_text())
    results = json.loads((finished_sweep / "results.json").read_text())
    assert metrics["chosen"]["trial_id"] == results["best_trial"]
    # The checkpoint is the chosen step's, not the last step's.
    assert metrics["metrics_at_step"]["step"] == metrics["chosen"]["step"] == results["best_step"]
    versions = json.loads((bundle / "versions.json").read_text())
    assert set(versions) >= {"torch", "transformers", "peft", "deepspeed", "ray", "optuna"}

    # Plain transformers + peft in a fresh interpreter, as a user would load the bundle.
    script = textwrap.dedent(f"""
        import json, torch
        from peft import PeftModel
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        probe = json.load(open("{bundle}/probe.json"))
        tokenizer = AutoTokenizer.from_pretrained("{bundle}")
        inputs = tokenizer(probe["texts"], padding=True, return_tensors="pt")
        base = AutoModelForSequenceClassification.from_pretrained("{tiny_pretrained}",
                                                                  num_labels=2)
        adapted = PeftModel.from_pretrained(base, "{bundle}").eval()
        merged = AutoModelForSequenceClassification.from_pretrained("{bundle}/merged").eval()
        with torch.no_grad():
            print(json.dumps({{"adapter": adapted(**inputs).logits.tolist(),
                              "merged": merged(**inputs).logits.tolist(),
                              "expected": probe["logits"]}}))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    logits = json.loads(done.stdout.strip().splitlines()[-1])
    for kind in ("adapter", "merged"):
        for row, expected in zip(logits[kind], logits["expected"]):
            assert row == pytest.approx(expected, abs=1e-4), kind


def test_export_refuses_a_bundle_that_does_not_reproduce_its_probe(finished_sweep, tmp_path,
                                                                   capsys):
    # One trial's checkpoint at a step, carrying another trial's probe at the same step (the
    # same inputs, another model's logits): the bundle's adapter is not what the probe saw.
    probes = sorted(finished_sweep.rglob("candidates/step_00000012/probe.json"))
    assert len(probes) == 3
    exported, other = probes[0], probes[1]
    trial_id = exported.parents[2].name  # runs/<run>/<trial id>/candidates/step_...
    saved = exported.read_text()
    assert json.loads(saved)["precision"] == "fp32"
    exported.write_text(other.read_text())
    try:
        code = main(["export", str(finished_sweep), "--out", str(tmp_path / "bundle"),
                     "--trial", trial_id, "--step", "12"])
    finally:
        exported.write_text(saved)
    output = capsys.readouterr().out
    assert code == 1, output
    assert f"does not reproduce trial {trial_id}'s probe at step 12" in output
    assert "the bundle reproduces" not in output
    metrics = json.loads((tmp_path / "bundle" / "metrics.json").read_text())
    assert not metrics["verified"] and metrics["verified_max_difference"] > 1e-3


def _hub_cache_with(model_folder, repo_id: str, home) -> None:
    """``home`` as an HF_HOME whose hub cache holds ``model_folder`` as ``repo_id`` (the layout
    huggingface_hub downloads into): another machine that has the base model from the hub."""
    revision = "0" * 40
    cache = home / "hub" / f"models--{repo_id.replace('/', '--')}"
    shutil.copytree(model_folder, cache / "snapshots" / revision)
    (cache / "refs").mkdir()
    (cache / "refs" / "main").write_text(revision)


def test_a_bundle_copied_elsewhere_loads_by_its_hub_base_with_real_label_names(
        finished_sweep, tiny_pretrained, tmp_path):
    # A sweep whose base is named by hub id, as on a cluster: the finished run directory with
    # its sweep naming the tiny model by a hub id that this test's offline hub cache holds.
    # (Its trials loaded the same weights from a folder; Ray's workers cannot be given an
    # HF_HOME of the test's own once Ray runs.)
    hub_id = "basin-tests/tiny-bert"
    home = tmp_path / "hf-home"
    _hub_cache_with(tiny_pretrained, hub_id, home)
    run = tmp_path / "run"
    shutil.copytree(finished_sweep, run)
    sweep = yaml.safe_load((run / "sweep.yaml").read_text())
    sweep["model"]["name"] = hub_id
    (run / "sweep.yaml").write_text(yaml.safe_dump(sweep, sort_keys=False))
    env = {**os.environ, "HF_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    written = tmp_path / "written"
    done = subprocess.run([sys.executable, "-m", "search.cli.main", "export", str(run), "--out",
                           str(written), "--merge"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "WARNING" not in done.stdout + done.stderr  # the libraries' noise is not shown
    # The bundle: no resume state, a filled-in card, files anyone may read.
    assert not (written / "trainer_state.json").exists()
    card = (written / "README.md").read_text()
    assert f"base_model: {hub_id}" in card and "More Information Needed" not in card
    assert "id2label={0: 'negative', 1: 'positive'}" in card
    assert json.loads((written / "adapter_config.json").read_text())[
        "base_model_name_or_path"] == hub_id
    assert all(p.stat().st_mode & 0o044 == 0o044 for p in written.rglob("*") if p.is_file())
    # Copied to another path (the written one gone), loaded in a fresh process as the card says.
    bundle = tmp_path / "elsewhere" / "bundle"
    shutil.copytree(written, bundle)
    shutil.rmtree(written)
    script = textwrap.dedent(f"""
        import json, torch
        from peft import AutoPeftModelForSequenceClassification
        from transformers import pipeline
        probe = json.load(open("{bundle}/probe.json"))
        model = AutoPeftModelForSequenceClassification.from_pretrained(
            "{bundle}", id2label={{0: "negative", 1: "positive"}}).eval()
        tokens = pipeline("text-classification", model="{bundle}/merged").tokenizer(
            probe["texts"], padding=True, return_tensors="pt")
        with torch.no_grad():
            logits = model(**tokens).logits.tolist()
        print(json.dumps({{
            "logits": logits, "expected": probe["logits"],
            "merged": pipeline("text-classification", model="{bundle}/merged")(probe["texts"]),
            "adapter": pipeline("text-classification", model=model,
                                tokenizer="{bundle}")(probe["texts"])}}))
    """)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    for row, expected in zip(answer["logits"], answer["expected"]):
        assert row == pytest.approx(expected, abs=1e-4)
    for kind in ("merged", "adapter"):
        assert {p["label"] for p in answer[kind]} <= {"negative", "positive"}, answer[kind]


def test_the_exported_recipe_retrains_to_the_chosen_step_and_reproduces_its_val_loss(
        finished_sweep, tmp_path):
    bundle = tmp_path / "bundle"
    assert main(["export", str(finished_sweep), "--out", str(bundle), "--trial",
                 json.loads((finished_sweep / "results.json").read_text())["trials"][1]
                 ["trial_id"], "--step", "8"]) == 0
    original = json.loads((bundle / "metrics.json").read_text())["chosen"]
    assert original["step"] == 8
    config = load_spec(bundle / "config.yaml")
    assert config.training.stop_at_step == 8 and config.training.max_steps == 12
    # The recipe records what it must land on: the figure, the recipe's hash (the one the
    # trial reported) and the libraries the sweep started with.
    assert (config.reproduce.step, config.reproduce.value) == (8, original["val_loss"])
    reported = json.loads((bundle / "metrics.json").read_text())["metrics_at_step"]
    assert config.reproduce.recipe_hash == reported["recipe_hash"]
    assert config.reproduce.versions == json.loads(
        (finished_sweep / "versions.json").read_text())
    again = tmp_path / "again"
    assert main(["run", str(bundle / "config.yaml"), "--quiet",
                 "--set", f"output_dir={again}"]) == 0
    (rerun,) = json.loads((only_run_dir(again) / "results.json").read_text())["trials"]
    assert rerun["params"] == original["params"]
    # Trained to step 8 of the 12-step schedule: the same weights, the same validation loss.
    assert [e["step"] for e in rerun["evaluations"]] == [4, 8]
    assert rerun["evaluations"][-1]["val_loss"] == pytest.approx(original["val_loss"], abs=1e-4)
    assert rerun["outcome"]["status"] == "completed"


def test_export_refuses_bad_requests(finished_sweep, tmp_path, capsys):
    assert main(["export", str(finished_sweep), "--out", str(tmp_path), "--trial", "nope"]) == 2
    assert "--trial: no trial 'nope'" in capsys.readouterr().err
    (tmp_path / "x").write_text("taken")
    assert main(["export", str(finished_sweep), "--out", str(tmp_path)]) == 2
    assert "exists and is not empty" in capsys.readouterr().err
    assert main(["export", str(tmp_path), "--out", str(tmp_path / "b")]) == 2
    assert "not a basin run directory" in capsys.readouterr().err


def test_confirm_ranks_the_top_candidates_by_mean_and_export_ships_its_winner(
        finished_sweep, tmp_path, capsys):
    # Confirm changes the run's choice: on a copy, so that the other tests read the sweep as
    # it finished, in any order (the copy keeps the folder's name, which names the study).
    finished_sweep = Path(shutil.copytree(finished_sweep, tmp_path / finished_sweep.name))
    before = json.loads((finished_sweep / "results.json").read_text())
    assert main(["confirm", str(finished_sweep), "--top", "2", "--seeds", "2", "--quiet"]) == 0
    output = capsys.readouterr().out
    assert "before confirm" in output and "confirmed with 2 new seeds" in output
    confirmed = json.loads((finished_sweep / "confirm.json").read_text())
    assert len(confirmed) == 2
    for entry in confirmed:
        assert len(entry["objectives"]) == 2 and entry["seeds"] == [1, 2]
        assert entry["mean"] == pytest.approx(sum(entry["objectives"]) / 2)
        assert len(entry["test_accuracy"]) == 2  # the demo task has a test split
    assert confirmed[0]["mean"] <= confirmed[1]["mean"]  # objective val_loss, minimised
    # The two best candidates of the sweep's choice: each trial's best-ranked step first.
    top = [(t["trial_id"], t["evaluations"]) for t in before["trials"][:2]]
    assert {(e["trial_id"], e["step"]) for e in confirmed} <= {
        (trial_id, row["step"]) for trial_id, rows in top for row in rows}
    winner = (confirmed[0]["trial_id"], confirmed[0]["step"])
    assert f"chosen: trial {winner[0]} at step {winner[1]}" in output
    # From now on the confirmed winner is the choice: results.json, best.yaml and export.
    after = json.loads((finished_sweep / "results.json").read_text())
    assert (after["best_trial"], after["best_step"]) == winner
    assert after["choice"]["why"].startswith("confirmed: the best mean val_loss")
    assert load_spec(finished_sweep / "best.yaml").training.stop_at_step == winner[1]
    bundle = tmp_path / "confirmed"
    assert main(["export", str(finished_sweep), "--out", str(bundle), "--no-verify"]) == 0
    assert "why: confirmed" in capsys.readouterr().out
    shipped = json.loads((bundle / "metrics.json").read_text())["chosen"]
    assert (shipped["trial_id"], shipped["step"]) == winner


def test_status_and_best_on_a_half_finished_run(sweep_factory, tmp_path, capsys):
    # A real driver process on this test's Ray cluster, killed with SIGKILL after its first
    # trial finished: the run directory is left half-finished.
    sweep = sweep_factory(
        training={"max_steps": 40, "eval_every": 4, "micro_batch_size": 8},
        search={"num_trials": 4, "max_concurrent_trials": 1, "seed": 0},
        tracking={"wandb": {"mode": "disabled"}})
    env = {**os.environ, "RAY_ADDRESS": ray.get_runtime_context().gcs_address}
    driver = subprocess.Popen([sys.executable, "-m", "search.cli.main", "run", str(sweep), "--quiet"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    run = None
    try:
        while time.monotonic() < deadline:
            runs = list((tmp_path / "runs").glob("*")) if (tmp_path / "runs").exists() else []
            if runs and (runs[0] / "optuna.journal").exists():
                run = RunDir(runs[0])
                states = [t.user_attrs.get(STATUS_ATTR) for t in run.optuna_trials().values()]
                if "completed" in states and len(states) >= 2:
                    break
            time.sleep(1)
    finally:
        driver.send_signal(signal.SIGKILL)
        driver.wait()
    assert run is not None and not run.finished
    # What a kill during the journal's next write would leave too: a torn last record.
    with open(run.path / "optuna.journal", "ab") as journal:
        journal.write(b'{"op_code":6,"worker_id":"x","trial_id":1,"param_na')

    assert main(["status", str(run.path)]) == 0
    output = capsys.readouterr().out
    assert "optuna.journal: ignored 1 torn or unreadable line (51 bytes)" in output
    # Its driver was killed: no live driver holds the lock, so the sweep is interrupted, its
    # time stops where it stopped, and its trials in flight wait for basin resume.
    assert f"{run.path}: interrupted, " in output and "min before it stopped" in output
    assert f"basin resume {run.path}" in output
    assert "4 requested, 1 finished (1 completed, 0 stopped, 0 pruned, 0 failed)" in output
    assert "1 unfinished" in output and "2 not started" in output
    assert "best so far: trial" in output
    assert main(["best", str(run.path)]) == 0
    output = capsys.readouterr().out
    assert "optuna.journal: ignored 1 torn or unreadable line (51 bytes)" in output
    assert "completed" in output and "unfinished" in output  # no driver: waits for resume
