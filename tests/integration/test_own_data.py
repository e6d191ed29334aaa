"""A new user's own data, as the README walks it: basin init on a small shipped TSV, the sweep
file run as written (the real MiniLM), and the chosen checkpoint exported and verified."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from search.cli.main import main

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def test_from_a_data_file_to_an_exported_bundle(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BASIN_CACHE", str(tmp_path / "cache"))  # the speed measured here
    data = tmp_path / "tickets.tsv"
    data.write_bytes((ROOT / "sweeps" / "data" / "tickets.tsv").read_bytes())
    # Its speed measured on this machine, the sweep fitted to the time given, and estimated.
    assert main(["init", "tickets.tsv", "--trials", "2", "--minutes", "30"]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert "measuring this machine's speed on builtin:minilm" in said
    estimate = re.search(r"2 trials of up to (\d+) steps: about \d+ (s|min) on this machine"
                         r"( \(at most \d+ (s|min) if no trial stops early\))?, 2 at a time "
                         r"\(measured: [\d.]+ s a step, [\d.]+ s an evaluation\)", said)
    assert estimate, said
    assert "LOAD REPORT" not in said and "WARNING" not in said  # the libraries: in the log
    assert "basin: training tickets" in (tmp_path / "cache" / "speed" / "train.log").read_text()
    sweep = tmp_path / "tickets.yaml"
    written = sweep.read_text()
    assert main(["validate", "tickets.yaml"]) == 0  # says the same estimate
    assert estimate.group(0) in " ".join(capsys.readouterr().out.split())
    assert main(["run", "tickets.yaml", "--quiet"]) == 0
    assert sweep.read_text() == written  # run as basin init wrote it
    run = next((tmp_path / "runs").glob("tickets-*"))
    results = json.loads((run / "results.json").read_text())
    assert len(results["trials"]) == 2 and results["choice"]["chosen"]["trial_id"]
    assert results["data"] == {"train": 192, "validation": 48, "test": 0}
    trial_log = run / results["best_trial"] / "trial.log"
    assert "data: 192 train / 48 validation / 0 test rows" in trial_log.read_text()
    assert main(["export", str(run), "--out", str(tmp_path / "bundle")]) == 0
    bundle = tmp_path / "bundle"
    for name in ("adapter_config.json", "adapter_model.safetensors", "config.yaml", "probe.json"):
        assert (bundle / name).is_file(), name
    metrics = json.loads((bundle / "metrics.json").read_text())
    assert (metrics["chosen"]["trial_id"], metrics["chosen"]["step"]) == \
        (results["best_trial"], results["best_step"])

    # --base local: the bundle names a copy of the base that has a head (base/) and loads with
    # no hub and no weight reported missing, answering with the data's label names and
    # predicting what the trial predicted on its probe.
    offline = tmp_path / "offline"
    assert main(["export", str(run), "--out", str(offline), "--base", "local"]) == 0
    base = json.loads((offline / "adapter_config.json").read_text())["base_model_name_or_path"]
    assert Path(base) == (offline / "base").resolve() and Path(base).is_dir(), base
    script = textwrap.dedent(f"""
        import json, torch, yaml
        from peft import AutoPeftModelForSequenceClassification
        from transformers import AutoTokenizer
        probe = json.load(open("{offline}/probe.json"))
        model = AutoPeftModelForSequenceClassification.from_pretrained("{offline}").eval()
        assert list(model.config.id2label.values()) == probe["label_names"], model.config
        length = yaml.safe_load(open("{offline}/config.yaml"))["data"]["max_length"]
        tokens = AutoTokenizer.from_pretrained("{offline}")(
            probe["texts"], padding=True, truncation=True, max_length=length,
            return_tensors="pt")
        with torch.no_grad():
            guesses = model(**tokens).logits.argmax(-1).tolist()
        print(json.dumps([guesses, torch.tensor(probe["logits"]).argmax(-1).tolist()]))
    """)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "MISSING" not in done.stderr and "LOAD REPORT" not in done.stderr, done.stderr
    guesses, probed = json.loads(done.stdout.strip().splitlines()[-1])
    assert guesses == probed
