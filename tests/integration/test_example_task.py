"""A task from outside basin (issue 50): the example package ``examples/text_regression``,
installed as a user would install theirs (``pip install``, here into a folder of the test's on
``PYTHONPATH``), is named ``model.task: text-regression`` by its entry point, swept by ``basin
run`` in a fresh process, exported, and the bundle loads in another process and predicts what
the trial's model predicted. Nothing of basin's own files is edited for it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import tiny_sweep, write_sweep

pytestmark = pytest.mark.integration
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "text_regression"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict[str, str]:
    """The environment of a machine where the example package is installed (its own folder on
    PYTHONPATH: the test environment's site-packages stay as they are)."""
    folder = tmp_path_factory.mktemp("example-task")
    source = folder / "source"
    shutil.copytree(EXAMPLE, source)  # the build writes beside its sources, not in the clone
    site = folder / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--target", str(site), str(source)], check=True)
    path = os.pathsep.join([str(site), *filter(None, [os.environ.get("PYTHONPATH")])])
    return {**{k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"},
            "PYTHONPATH": path, "HF_HUB_OFFLINE": "1"}


def basin(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "search.cli.main", *argv], env=env,
                          capture_output=True, text=True, timeout=600)


def test_an_installed_task_is_swept_exported_and_its_bundle_predicts(
        installed, tiny_pretrained, tmp_path) -> None:
    sweep = write_sweep(tmp_path / "ratings.yaml", tiny_sweep(
        tmp_path, model={"name": str(tiny_pretrained), "task": "text-regression",
                         "lora_target_modules": ["query", "value"]},
        objective={"metric": "val_mae", "mode": "min"},
        search={"num_trials": 1, "seed": 0},
        tracking={"wandb": {"mode": "disabled"}}))
    validated = basin(["validate", str(sweep)], installed)
    assert validated.returncode == 0, validated.stdout + validated.stderr

    done = basin(["run", str(sweep), "--quiet"], installed)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (run,) = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    results = json.loads((run / "results.json").read_text())
    assert {t["outcome"]["status"] for t in results["trials"]} == {"completed"}
    for trial in results["trials"]:  # the task's own objective, kept in every record
        assert all(0 <= row["val_mae"] < 10 for row in trial["evaluations"]), trial

    bundle = tmp_path / "bundle"
    export = basin(["export", str(run), "--out", str(bundle), "--base", "local"], installed)
    assert export.returncode == 0, export.stdout + export.stderr
    assert "verified" in export.stdout
    script = textwrap.dedent(f"""
        import json, torch, yaml
        from peft import AutoPeftModelForSequenceClassification
        from transformers import AutoTokenizer
        probe = json.load(open("{bundle}/probe.json"))
        model = AutoPeftModelForSequenceClassification.from_pretrained("{bundle}").eval()
        length = yaml.safe_load(open("{bundle}/config.yaml"))["data"]["max_length"]
        tokens = AutoTokenizer.from_pretrained("{bundle}")(
            probe["texts"], padding=True, truncation=True, max_length=length,
            return_tensors="pt")
        with torch.no_grad():
            ratings = model(**tokens).logits.squeeze(-1).tolist()
        print(json.dumps([ratings, probe["ratings"]]))
    """)
    loaded = subprocess.run([sys.executable, "-c", script], env=installed, capture_output=True,
                            text=True, timeout=300)
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert "MISSING" not in loaded.stderr and "LOAD REPORT" not in loaded.stderr, loaded.stderr
    ratings, probed = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert ratings == pytest.approx(probed, abs=1e-4)

    # The chosen recipe re-trained here, and the leader re-trained on a new seed and scored on
    # the test split by the task's own test figures.
    trained = basin(["train", str(run / "best.yaml"), "--out", str(tmp_path / "trained")],
                    installed)
    assert trained.returncode == 0, trained.stdout[-2000:] + trained.stderr[-2000:]
    assert "reproduced val_mae" in trained.stdout, trained.stdout
    confirmed = basin(["confirm", str(run), "--top", "1", "--seeds", "1", "--quiet"], installed)
    assert confirmed.returncode == 0, confirmed.stdout[-2000:] + confirmed.stderr[-2000:]
    assert "test_mae" in (run / "confirm.json").read_text()


def test_the_installed_task_s_own_data_check_is_one_line(installed, tmp_path) -> None:
    raw = tiny_sweep(tmp_path, model={"name": "builtin:minilm", "task": "text-regression"})
    raw["data"] = {"source": "files", "train_file": str(tmp_path / "ratings.tsv")}
    (tmp_path / "ratings.tsv").write_text("text\tlabel\nthe soup was tasty\t0.6\n")
    refused = basin(["validate", str(write_sweep(tmp_path / "files.yaml", raw))], installed)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines()[-1].endswith(
        "data.source: task 'text-regression' generates its own ratings; use data.source: "
        "demo (got 'files')"), refused.stderr


def test_basin_init_lists_the_installed_task_and_points_to_its_own_sweep(installed,
                                                                          tmp_path) -> None:
    listed = basin(["init", "--list-tasks"], installed)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert any(line.startswith("sequence-classification: ") for line in lines)
    (regression,) = [line for line in lines if line.startswith("text-regression: ")]
    assert "basin_text_regression:TASK; start from its package" in regression
    assert "objectives: val_loss, val_mae" in regression
    data = tmp_path / "ratings.tsv"
    data.write_text("text\tlabel\n" + "a fine soup\t0.6\n" * 20)
    refused = basin(["init", str(data), "--task", "text-regression"], installed)
    assert refused.returncode == 2 and not (tmp_path / "ratings.yaml").exists()
    assert refused.stderr.strip() == (
        "--task: text-regression comes from basin_text_regression, and basin init writes "
        "starting sweeps for the built-in tasks only (sequence-classification, causal-lm): "
        "start from basin_text_regression's own example sweep, which names model.task: "
        "text-regression (got 'text-regression')"), refused.stderr
